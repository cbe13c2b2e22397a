/**
 * Splits streamed text into lines the way readline does (`\n`, `\r\n` and a lone `\r` end a
 * line, so progress bars redrawn with `\r` give one line per redraw), but never holds more than
 * `maxLength + 1` characters of a line: readline keeps a line without a newline in memory whole,
 * however long a trainer makes it. The part past the cap is dropped, and the line is still
 * delivered at that length, so a reader that skips lines over its own limit counts it.
 */
export class LineSplitter {
  private partial = '';
  private truncated = false;
  private afterCR = false;

  constructor(
    private readonly maxLength: number,
    private readonly onLine: (line: string) => void,
  ) {}

  /** Characters of the unfinished line held in memory. */
  get buffered(): number {
    return this.partial.length;
  }

  push(chunk: string): void {
    let start = 0;
    if (this.afterCR && chunk.startsWith('\n')) start = 1;
    this.afterCR = false;
    const breaks = /\r\n|\r|\n/g;
    breaks.lastIndex = start;
    for (let m = breaks.exec(chunk); m; m = breaks.exec(chunk)) {
      this.append(chunk, start, m.index);
      this.flush();
      start = m.index + m[0].length;
      // A chunk ending in \r may be half of a \r\n split across chunks.
      if (m[0] === '\r' && start === chunk.length) this.afterCR = true;
    }
    this.append(chunk, start, chunk.length);
  }

  /** The stream ended: a last line without a newline is still a line. */
  end(): void {
    if (this.partial !== '') this.flush();
  }

  private append(chunk: string, from: number, to: number): void {
    if (this.truncated || from === to) return;
    const room = this.maxLength + 1 - this.partial.length;
    if (to - from >= room) {
      this.partial += chunk.slice(from, from + room);
      this.truncated = true;
    } else this.partial += chunk.slice(from, to);
  }

  private flush(): void {
    const line = this.partial;
    this.partial = '';
    this.truncated = false;
    this.onLine(line);
  }
}
