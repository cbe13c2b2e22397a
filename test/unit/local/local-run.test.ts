import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { REPO_ROOT, runCli } from '../../support/run-cli.js';

const FAKE = join(REPO_ROOT, 'test/fixtures/fake-trainer.mjs');

function studyFile(dir: string, spec: Record<string, unknown>, args: string[]): string {
  const manifest = {
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Study',
    metadata: { name: 'fake' },
    spec: {
      objective: { metric: 'loss', goal: 'minimize', additionalMetrics: ['accuracy'] },
      trialTemplate: {
        spec: { template: { spec: { containers: [{ name: 'train', command: ['node', FAKE], args }] } } },
      },
      ...spec,
    },
  };
  const file = join(dir, 'study.yaml');
  writeFileSync(file, stringify(manifest));
  return file;
}

interface Results {
  outcome: { done: boolean; succeeded: boolean; reason: string };
  interrupted: boolean;
  best?: { trial: string; value: number; parameters: Record<string, string> };
  trials: {
    name: string;
    index: number;
    params: Record<string, unknown>;
    formattedParams: Record<string, string>;
    state: string;
    reason?: string;
    message?: string;
    value?: number;
    intermediate: unknown[];
  }[];
}

describe('kubetune run (local processes)', () => {
  it('runs a study in parallel, finds the best trial and writes JSON and CSV results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-run-'));
    const file = studyFile(
      dir,
      {
        algorithm: { name: 'sobol' },
        maxTrials: 8,
        parallelism: 3,
        parameters: [
          { name: 'x', type: 'double', min: 0, max: 1 },
          { name: 'y', type: 'double', min: 0, max: 1 },
        ],
      },
      ['--x', '${params.x}', '--y=${params.y}', '--epochs', '3', '--sleep-ms', '50'],
    );
    const res = await runCli(['run', file, '--output', join(dir, 'out')]);
    assert.equal(res.code, 0, res.stderr);
    const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as Results;
    assert.equal(results.trials.length, 8);
    assert.ok(results.trials.every((t) => t.state === 'Succeeded' && t.intermediate.length === 3));
    assert.equal(results.outcome.reason, 'MaxTrialsReached');
    const values = results.trials.map((t) => t.value as number);
    assert.equal(results.best!.value, Math.min(...values));
    // The value is recomputed from the printed parameters: the trainer really saw them.
    const { x, y } = results.best!.parameters;
    assert.ok(
      Math.abs(results.best!.value - ((Number(x) - 0.3) ** 2 + (Number(y) - 0.7) ** 2 + 1 / 3)) < 1e-9,
    );
    assert.match(res.stdout, new RegExp(`best trial: ${results.best!.trial} loss=`));
    const csv = readFileSync(join(dir, 'out', 'trials.csv'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(csv.length, 9);
    assert.match(csv[0]!, /^trial,index,state,objective,param\.x,param\.y,metric\.loss,metric\.accuracy/);
  });

  it('records each misbehaving trainer with its reason and goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-bad-'));
    const file = studyFile(
      dir,
      {
        algorithm: { name: 'grid' },
        maxTrials: 10,
        parallelism: 2,
        maxFailedTrials: 10,
        trialTimeoutSeconds: 2,
        parameters: [
          {
            name: 'mode',
            type: 'categorical',
            values: ['ok', 'crash', 'nometric', 'nan', 'garbage', 'hang'],
          },
        ],
      },
      ['--mode', '${params.mode}'],
    );
    const res = await runCli(['run', file, '--output', join(dir, 'out')], { timeoutMs: 60000 });
    assert.equal(res.code, 0, res.stderr);
    const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as Results;
    const byMode = Object.fromEntries(results.trials.map((t) => [t.formattedParams['mode'], t]));
    assert.equal(byMode['ok']!.state, 'Succeeded');
    assert.equal(byMode['garbage']!.state, 'Succeeded', 'metric tokens amid garbage still count');
    assert.equal(byMode['crash']!.state, 'Failed');
    assert.equal(byMode['crash']!.reason, 'ExitCode');
    assert.match(byMode['crash']!.message!, /exited with code 3; last output: .*Traceback/);
    assert.equal(byMode['nometric']!.state, 'MetricsUnavailable');
    assert.equal(byMode['nan']!.state, 'Failed');
    assert.equal(byMode['nan']!.reason, 'ObjectiveNotFinite');
    assert.equal(byMode['hang']!.state, 'Failed');
    assert.equal(byMode['hang']!.reason, 'Timeout');
    assert.equal(results.outcome.reason, 'SearchSpaceExhausted');
    assert.equal(
      results.best!.parameters['mode'] === 'ok' || results.best!.parameters['mode'] === 'garbage',
      true,
    );
  });

  it('fails the study once too many trials fail', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-fail-'));
    const file = studyFile(
      dir,
      {
        algorithm: { name: 'random' },
        maxTrials: 10,
        maxFailedTrials: 1,
        parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
      },
      ['--mode', 'crash', '--x', '${params.x}'],
    );
    const res = await runCli(['run', file, '--output', join(dir, 'out')]);
    assert.equal(res.code, 1);
    assert.match(res.stdout, /study failed: 2 trials failed, more than maxFailedTrials \(1\)/);
  });

  it('warns about values kubectl would read differently (YAML 1.1) and runs the study as written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-y11run-'));
    const file = join(dir, 'y11.yaml');
    writeFileSync(file, yaml11Study());
    const res = await runCli(['run', file, '--output', join(dir, 'out')]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(
      res.stderr,
      /^warning: .*y11\.yaml:9: spec\.parameters\[0\]\.name: kubectl reads y as the boolean true \(YAML 1\.1\), kubetune as the string "y"; quote it: "y"$/m,
    );
    const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as Results;
    assert.deepEqual(Object.keys(results.trials[0]!.formattedParams), ['y', 'mode']);
  });

  it('reports a missing command as a failed trial, not a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-enoent-'));
    const manifest = studyFile(
      dir,
      {
        maxTrials: 1,
        maxFailedTrials: 0,
        algorithm: { name: 'random' },
        parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
      },
      ['${params.x}'],
    );
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/- node\n/, '- no-such-trainer-binary\n'));
    const res = await runCli(['run', manifest, '--output', join(dir, 'out')]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /no-such-trainer-binary: command not found/);
    assert.doesNotMatch(res.stderr, /at .*\.ts:\d+/);
  });

  it('stops running trials cleanly on Ctrl-C, records them as interrupted (not failed) and writes results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-int-'));
    const file = studyFile(
      dir,
      {
        maxTrials: 10,
        parallelism: 4,
        maxFailedTrials: 3,
        algorithm: { name: 'random' },
        parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
      },
      ['--x', '${params.x}', '--epochs', '1000', '--sleep-ms', '200'],
    );
    let started = 0;
    const run = runCli(['run', file, '--output', join(dir, 'out')], {
      onStderr: (chunk) => {
        const before = started;
        started += chunk.split('started').length - 1;
        if (before < 4 && started >= 4) run.child.kill('SIGINT');
      },
    });
    const res = await run;
    assert.equal(res.code, 130, res.stderr);
    assert.match(res.stdout, /^study interrupted: 4 interrupted \(maxTrials 10\)$/m);
    assert.doesNotMatch(res.stdout, /failed/);
    const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as Results;
    assert.equal(results.interrupted, true);
    assert.equal(results.outcome.done, false, 'interrupted trials are not failures that end the study');
    assert.deepEqual(
      results.trials.map((t) => [t.index, t.state, t.reason]),
      [0, 1, 2, 3].map((i) => [i, 'Interrupted', 'Interrupted']),
    );
    // A resumed study runs them again with the same index and parameters.
    for (const t of results.trials) {
      assert.equal(typeof t.params['x'], 'number');
      assert.equal(t.formattedParams['x'], String(t.params['x']));
    }
  });
});

/** A Study with an unquoted `y` parameter name (line 9) and an unquoted `off` value (line 10). */
function yaml11Study(): string {
  return `apiVersion: kubetune.io/v1alpha1
kind: Study
metadata: {name: y11}
spec:
  algorithm: {name: grid}
  maxTrials: 1
  objective: {metric: loss, goal: minimize}
  parameters:
    - {name: y, type: double, min: 0, max: 1}
    - {name: mode, type: categorical, values: [ok, off]}
  trialTemplate:
    spec:
      template:
        spec:
          containers:
            - {name: t, command: [node, ${JSON.stringify(FAKE)}, --y, "\${params.y}", --mode, "\${params.mode}"]}
`;
}

describe('kubetune validate', () => {
  it('prints field path, line and what is allowed, with no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-val-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      `apiVersion: kubetune.io/v1alpha1
kind: Study
metadata: {name: bad}
spec:
  algorithm: {name: annealing}
  parallelism: -2
  objective: {metric: loss, goal: minimize}
  parameters:
    - {name: lr, type: double, min: 0, max: 0.1, log: true}
  trialTemplate:
    spec:
      template:
        spec:
          containers:
            - {name: t, command: [train, "\${params.momentum}"]}
`,
    );
    const res = await runCli(['validate', file]);
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /bad\.yaml:5: spec\.algorithm\.name: invalid value "annealing"; allowed: random, grid, sobol, tpe, bayesian, cmaes/,
    );
    assert.match(res.stderr, /bad\.yaml:6: spec\.parallelism: must be >= 1, got -2/);
    assert.match(res.stderr, /bad\.yaml:9: spec\.parameters\[0\]\.min: log: true needs min > 0/);
    assert.doesNotMatch(res.stderr, /at .*\.(ts|js):\d+/);
    assert.ok(
      res.stderr.indexOf('bad.yaml:5:') < res.stderr.indexOf('bad.yaml:9:'),
      'errors are listed in file order',
    );

    // Placeholders are checked once the fields they depend on are valid.
    const text = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      text.replace('annealing', 'random').replace('-2', '2').replace('min: 0,', 'min: 0.001,'),
    );
    const second = await runCli(['validate', file]);
    assert.equal(second.code, 1);
    assert.match(
      second.stderr,
      /bad\.yaml:15: spec\.trialTemplate\.spec\.template\.spec\.containers\[0\]\.command\[1\]: \$\{params\.momentum\} names unknown parameter "momentum" \(parameters: lr\)/,
    );
  });

  it('fails a Study that kubectl would read differently (YAML 1.1), naming the line and the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-y11-'));
    const file = join(dir, 'y11.yaml');
    writeFileSync(file, yaml11Study());
    const res = await runCli(['validate', file]);
    assert.equal(res.code, 1, res.stdout);
    assert.match(
      res.stderr,
      /y11\.yaml:9: spec\.parameters\[0\]\.name: kubectl reads y as the boolean true \(YAML 1\.1\), kubetune as the string "y"; quote it: "y"/,
    );
    assert.match(
      res.stderr,
      /y11\.yaml:10: spec\.parameters\[1\]\.values\[1\]: kubectl reads off as the boolean false/,
    );
    assert.match(res.stderr, /kubectl reads 2 unquoted value\(s\) differently \(YAML 1\.1\)/);

    writeFileSync(file, yaml11Study().replace('name: y,', 'name: "y",').replace('off]', '"off"]'));
    const quoted = await runCli(['validate', file]);
    assert.equal(quoted.code, 0, quoted.stderr);
    assert.equal(quoted.stderr, '');
  });

  it('accepts the examples', async () => {
    const res = await runCli(['validate', 'examples/quickstart.yaml']);
    assert.equal(res.code, 0, res.stderr);
  });
});
