import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatZodError } from '../../../src/api/errors.js';
import { StudySpec } from '../../../src/api/study.js';
import { renderWorkload } from '../../../src/engine/trial-template.js';
import { spec, specInput } from '../../support/specs.js';

const jobSet = (replicatedJob: Record<string, unknown>) => ({
  apiVersion: 'jobset.x-k8s.io/v1alpha2',
  kind: 'JobSet',
  spec: {
    replicatedJobs: [
      {
        name: 'workers',
        template: { spec: { template: { spec: { containers: [{ name: 'trainer', image: 'x' }] } } } },
        ...replicatedJob,
      },
    ],
  },
});

function errorsOf(trialTemplate: unknown): string[] {
  const r = StudySpec.safeParse(specInput({ trialTemplate } as never), { reportInput: true });
  assert.equal(r.success, false, 'expected the spec to be rejected');
  return formatZodError(r.error!).map((e) => `${e.path}: ${e.message}`);
}

const identity = { study: 'demo', name: 'demo-3', index: 3 };

describe('parameters anywhere in the trial template', () => {
  it('gives a whole-field placeholder the type of its parameter, and substitutes inside any string', () => {
    const s = spec({
      trialTemplate: {
        ...jobSet({ replicas: '${params.batch_size}' }),
        metadata: { annotations: { lr: 'lr=${params.learning_rate}' } },
      },
    } as never);
    const out = renderWorkload(s.trialTemplate, {
      ...identity,
      params: { batch_size: '64', learning_rate: '0.01', dropout: '0.1', optimizer: 'adam' },
      types: { batch_size: 'int', learning_rate: 'double', optimizer: 'categorical' },
    });
    const replicated = (out.spec as { replicatedJobs: { replicas: unknown }[] }).replicatedJobs[0]!;
    assert.equal(replicated.replicas, 64);
    assert.deepEqual(out.metadata?.annotations, { lr: 'lr=0.01' });
  });

  it('keeps categorical values and embedded placeholders as strings, and ${trial.index} whole as a number', () => {
    const template = spec().trialTemplate;
    const withFields = {
      ...template,
      spec: {
        ...template.spec,
        completions: '${trial.index}',
        template: {
          metadata: { annotations: { opt: '${params.optimizer}', run: '${study.name}/${trial.index}' } },
          spec: {
            containers: [
              {
                name: 'trainer',
                workingDir: '/runs/${trial.name}',
                args: ['${params.batch_size}'],
                env: [{ name: 'BS', value: '${params.batch_size}' }],
              },
            ],
            volumes: [{ name: 'data', emptyDir: { sizeLimit: '${params.batch_size}Mi' } }],
          },
        },
      },
    };
    const out = renderWorkload(withFields, {
      ...identity,
      params: { optimizer: 'adam', batch_size: '64' },
      types: { optimizer: 'categorical', batch_size: 'int' },
    }).spec as typeof withFields.spec & { completions: unknown };
    assert.equal(out.completions, 3);
    assert.deepEqual(out.template.metadata.annotations, { opt: 'adam', run: 'demo/3' });
    const container = out.template.spec.containers[0]!;
    assert.equal(container.workingDir, '/runs/demo-3');
    // An argument is a string whatever the parameter: a command line has no numbers.
    assert.deepEqual(container.args, ['64']);
    assert.deepEqual(container.env, [{ name: 'BS', value: '64' }]);
    assert.equal(out.template.spec.volumes[0]!.emptyDir.sizeLimit, '64Mi');
  });

  it('reports an unknown parameter deep in the template with its path', () => {
    const errors = errorsOf(
      jobSet({
        replicas: 2,
        template: {
          spec: {
            template: {
              spec: {
                containers: [
                  {
                    name: 'c',
                    env: [{ name: 'A', valueFrom: { configMapKeyRef: { key: '${params.nope}' } } }],
                  },
                ],
              },
            },
          },
        },
      }),
    );
    assert.ok(
      errors.some((e) =>
        e.startsWith(
          'trialTemplate.spec.replicatedJobs[0].template.spec.template.spec.containers[0].env[0].valueFrom.configMapKeyRef.key: ${params.nope} names unknown parameter "nope"',
        ),
      ),
      errors.join('\n'),
    );
  });

  it('refuses placeholders where Kubernetes would refuse what they become', () => {
    const errors = errorsOf({
      metadata: {
        labels: { lr: '${params.learning_rate}', trial: '${trial.name}' },
        annotations: { '${params.optimizer}': 'x' },
      },
      spec: {
        template: {
          metadata: { name: '${trial.name}' },
          spec: { containers: [{ name: 'c-${params.optimizer}', image: 'x' }] },
        },
      },
    });
    const has = (prefix: string, words: string) =>
      assert.ok(
        errors.some((e) => e.startsWith(prefix) && e.includes(words)),
        `${prefix} … ${words}\n${errors.join('\n')}`,
      );
    has('trialTemplate.metadata.labels.lr:', 'label value');
    has('trialTemplate.metadata.annotations.${params.optimizer}:', 'keys');
    has('trialTemplate.spec.template.metadata.name:', 'metadata.name');
    has('trialTemplate.spec.template.spec.containers[0].name:', 'DNS name');
    assert.ok(
      !errors.some((e) => e.startsWith('trialTemplate.metadata.labels.trial')),
      'a trial name is a valid label value',
    );
  });

  it('refuses a parameter that cannot be an integer in an integer field, and accepts an int one', () => {
    const double = errorsOf(jobSet({ replicas: '${params.learning_rate}' }));
    assert.ok(
      double.some(
        (e) =>
          e.startsWith('trialTemplate.spec.replicatedJobs[0].replicas:') &&
          e.includes('learning_rate is a double parameter'),
      ),
      double.join('\n'),
    );
    const text = errorsOf(jobSet({ replicas: '${params.batch_size}0' }));
    assert.ok(
      text.some((e) => e.includes('not text around a placeholder')),
      text.join('\n'),
    );
    const job = errorsOf({
      ...specInput().trialTemplate,
      spec: { ...specInput().trialTemplate.spec, parallelism: '${params.optimizer}' },
    });
    assert.ok(
      job.some((e) => e.startsWith('trialTemplate.spec.parallelism:') && e.includes('categorical')),
      job.join('\n'),
    );
    assert.doesNotThrow(() => spec({ trialTemplate: jobSet({ replicas: '${params.batch_size}' }) } as never));
  });

  it('refuses a template nested too deep to walk safely', () => {
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 80; i++) deep = { d: deep };
    const errors = errorsOf({
      ...specInput().trialTemplate,
      spec: { ...specInput().trialTemplate.spec, extra: deep },
    });
    assert.ok(
      errors.some((e) => e.includes('nested deeper than 64 levels')),
      errors.join('\n'),
    );
  });
});
