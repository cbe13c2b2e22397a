// Entry logic: parse and validate the flags first, then load TensorFlow.js only for a real run,
// so --help and flag mistakes answer instantly.
import { UserError } from './errors.js';
import { parseFlags, USAGE } from './flags.js';

function log(line: string): void {
  process.stderr.write(`kubetune-trainer: ${line}\n`);
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const parsed = parseFlags(argv);
    if (parsed.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const { run } = await import('./run.js');
    return await run(parsed.config);
  } catch (err) {
    if (err instanceof UserError) {
      log(`error: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}
