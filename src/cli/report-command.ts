import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readResults, writeReport } from '../report/local-report.js';
import { UserError } from './load-study.js';

const USAGE = `usage: kubetune report RESULTS.json [-o OUT.html]

Writes the self-contained HTML report of a local run (default: report.html next to RESULTS.json).`;

export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(USAGE);
  const path = resolve(positionals[0] as string);
  let results;
  try {
    results = readResults(path);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  const out = resolve(values.output ?? join(dirname(path), 'report.html'));
  console.log(`report: ${writeReport(dirname(path), results, out)}`);
  return 0;
}
