import { loadStudy, UserError } from './load-study.js';

export async function validateCommand(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help'))
    throw new UserError('usage: kubetune validate STUDY.yaml [MORE.yaml ...]');
  let failures = 0;
  for (const file of argv) {
    try {
      const { manifest: m, yaml11 } = loadStudy(file);
      // validate answers for `kubectl apply` too, and kubectl would read these differently.
      if (yaml11.length > 0) {
        console.error(yaml11.join('\n'));
        console.error(
          `${file}: a valid Study for kubetune run, but kubectl reads ${yaml11.length} unquoted value(s) ` +
            'differently (YAML 1.1); quote them as shown above',
        );
        failures++;
        continue;
      }
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
