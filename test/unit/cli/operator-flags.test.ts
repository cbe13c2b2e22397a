import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { operatorCommand } from '../../../src/cli/operator-command.js';
import { UserError } from '../../../src/cli/load-study.js';

// Each flag is checked before the operator connects anywhere, so a bad value fails at once.
const refused = (args: string[], message: RegExp) =>
  assert.rejects(
    operatorCommand(args),
    (err: unknown) => err instanceof UserError && message.test(err.message),
  );

describe('operator flags for the compute pool and the Prometheus allowlist', () => {
  it('refuses allowlist entries that are not plain http(s) URLs, naming the entry', async () => {
    await refused(
      ['--prometheus-url-allowlist', 'http://prometheus:9090,prometheus.monitoring:9090'],
      /^--prometheus-url-allowlist: Prometheus allowlist entry "prometheus\.monitoring:9090" must be an http or https URL$/,
    );
    await refused(['--prometheus-url-allowlist', 'http://u:p@prometheus:9090'], /must not carry credentials/);
  });

  it('refuses budgets outside (0, 600] seconds and a pool of no workers', async () => {
    await refused(
      ['--suggestion-budget-seconds', '0'],
      /^--suggestion-budget-seconds must be a number of seconds in \(0, 600\], got "0"$/,
    );
    await refused(['--prune-budget-seconds', 'soon'], /^--prune-budget-seconds must be a number of seconds/);
    await refused(['--compute-workers', '0'], /^--compute-workers must be a whole number >= 1, got "0"$/);
  });

  it('refuses a trial kind that is not apiVersion/Kind[=resource], naming it', async () => {
    await refused(
      ['--trial-kinds', 'batch/v1/Job,jobset'],
      /^--trial-kinds: "jobset" is not apiVersion\/Kind\[=resource\], e\.g\. jobset\.x-k8s\.io\/v1alpha2\/JobSet$/,
    );
    await refused(
      ['--trial-kinds', 'example.com/v1/Widget=Widgets'],
      /the resource must be a lowercase plural name/,
    );
  });
});
