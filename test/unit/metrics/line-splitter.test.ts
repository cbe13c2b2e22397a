import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter } from '../../../src/metrics/line-splitter.js';

function split(chunks: string[], max = 100): { lines: string[]; peak: number } {
  const lines: string[] = [];
  const s = new LineSplitter(max, (l) => lines.push(l));
  let peak = 0;
  for (const c of chunks) {
    s.push(c);
    peak = Math.max(peak, s.buffered);
  }
  s.end();
  return { lines, peak };
}

describe('line splitter', () => {
  it('splits like readline: \\n, \\r\\n (also across chunks), a lone \\r, a last line without newline', () => {
    assert.deepEqual(split(['a\nb\r\nc\rd', 'e\r', '\nf\n\ng']).lines, ['a', 'b', 'c', 'de', 'f', '', 'g']);
    assert.deepEqual(split(['loss=0.', '5\n']).lines, ['loss=0.5']);
    assert.deepEqual(split(['x\n']).lines, ['x']);
    assert.deepEqual(split(['\r', '\r\n']).lines, ['', '']);
  });

  it('holds at most max + 1 characters of an endless line and delivers it at that length', () => {
    const chunk = 'a'.repeat(65_536);
    const { lines, peak } = split([...Array<string>(160).fill(chunk), '\nloss=1\n'], 1000);
    assert.equal(peak, 1001, 'memory held for 10 MiB without a newline');
    assert.deepEqual(
      lines.map((l) => l.length),
      [1001, 6],
    );
    assert.equal(lines[1], 'loss=1');
  });

  it('keeps a line of exactly max characters whole', () => {
    assert.deepEqual(
      split(['b'.repeat(60), 'b'.repeat(40), '\n']).lines.map((l) => l.length),
      [100],
    );
  });
});
