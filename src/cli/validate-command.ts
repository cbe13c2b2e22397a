import { loadStudy, UserError } from './load-study.js';

export async function validateCommand(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help'))
    throw new UserError('usage: kubetune validate STUDY.yaml [MORE.yaml ...]');
  let failures = 0;
  for (const file of argv) {
    try {
      const m = loadStudy(file);
      console.log(
        `${file}: valid Study ${m.metadata.name ?? '(unnamed)'} (${m.spec.algorithm.name}, ${m.spec.parameters.length} parameters)`,
      );
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      console.error(err.message);
      failures++;
    }
  }
  return failures === 0 ? 0 : 1;
}
