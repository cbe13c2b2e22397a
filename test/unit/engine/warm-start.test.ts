// Warm starts in the engine: spec.initialTrials are the first trials, in order; priors feed the
// sampler without being trials of the study.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Assignment } from '../../../src/api/parameter.js';
import { createStudy } from '../../../src/engine/ask-tell.js';
import type { PriorTrial } from '../../../src/engine/study-engine.js';

const objective = { metric: 'loss', goal: 'minimize' as const };
const parameters = [
  { name: 'optimizer', type: 'categorical' as const, values: ['sgd', 'adam'] },
  { name: 'lr', type: 'double' as const, min: 0.001, max: 0.1, log: true },
  {
    name: 'momentum',
    type: 'double' as const,
    min: 0,
    max: 0.9,
    when: { parameter: 'optimizer', in: ['sgd'] },
  },
  { name: 'layers', type: 'int' as const, min: 1, max: 4 },
];

describe('spec.initialTrials', () => {
  it('are asked first, in order, with their values read as the space reads them', async () => {
    const study = createStudy({
      parameters,
      objective,
      algorithm: { name: 'tpe' },
      maxTrials: 4,
      initialTrials: [
        { params: { optimizer: 'sgd', lr: 0.01, momentum: '0.9', layers: 2 } },
        { params: { optimizer: 'adam', lr: '0.001', layers: '4' } },
      ],
    });
    const asked = await study.ask(3);
    assert.deepEqual(asked[0], { id: 0, params: { optimizer: 'sgd', lr: 0.01, momentum: 0.9, layers: 2 } });
    assert.deepEqual(asked[1], { id: 1, params: { optimizer: 'adam', lr: 0.001, layers: 4 } });
    assert.equal(asked[2]?.id, 2);
    assert.equal(study.remaining, 1, 'initial trials count toward maxTrials');
  });

  it('are refused when they do not fit the space, naming the entry, the parameter and the reason', () => {
    const refuse = (params: Record<string, string | number>, message: string) =>
      assert.throws(
        () =>
          createStudy({
            parameters,
            objective,
            initialTrials: [{ params: { optimizer: 'adam', lr: 0.01, layers: 1 } }, { params }],
          }),
        { message },
      );
    refuse(
      { optimizer: 'adam', lr: 0.5, layers: 1 },
      'initialTrials[1].params: parameter lr: 0.5 is outside [0.001, 0.1]',
    );
    refuse(
      { optimizer: 'sgd', lr: 0.01, layers: 1 },
      'initialTrials[1].params: parameter momentum is missing',
    );
    refuse(
      { optimizer: 'adam', lr: 0.01, layers: 1, momentum: 0.5 },
      'initialTrials[1].params: parameter momentum has a value but is inactive: it needs optimizer in [sgd]',
    );
    refuse(
      { optimizer: 'adam', lr: 0.01, layers: 1.5 },
      'initialTrials[1].params: parameter layers: 1.5 is not an integer',
    );
    refuse(
      { optimizer: 'adam', lr: 0.01, layers: 1, depth: 3 },
      'initialTrials[1].params: depth is not a parameter of this study',
    );
    refuse(
      { optimizer: 'rmsprop', lr: 0.01, layers: 1 },
      'initialTrials[1].params: parameter optimizer: "rmsprop" is not one of its values',
    );
  });

  it('may not outnumber maxTrials', () => {
    const initialTrials = [1, 2, 3].map(() => ({ params: { optimizer: 'adam', lr: 0.01, layers: 1 } }));
    assert.throws(
      () => createStudy({ parameters, objective, maxTrials: 2, initialTrials }),
      /initialTrials: initialTrials has more entries than maxTrials/,
    );
  });
});

describe('priors', () => {
  const space = [
    { name: 'x', type: 'double' as const, min: 0, max: 1 },
    { name: 'y', type: 'double' as const, min: 0, max: 1 },
  ];
  const f = (p: Assignment) => ((p['x'] as number) - 0.8) ** 2 + ((p['y'] as number) - 0.2) ** 2;
  const priors: PriorTrial[] = Array.from({ length: 30 }, (_, k) => {
    const params = { x: ((k * 7) % 30) / 30, y: ((k * 11) % 30) / 30 };
    return { params, state: 'Succeeded', value: f(params) };
  });

  async function bestOf(seed: number, withPriors: boolean): Promise<number> {
    const study = createStudy(
      {
        parameters: space,
        objective,
        algorithm: { name: 'tpe', settings: { nStartup: 10 } },
        seed,
        maxTrials: 6,
      },
      withPriors ? { priors } : {},
    );
    for (let i = 0; i < 6; i++) {
      const [t] = await study.ask();
      study.tell(t!.id, f(t!.params));
    }
    return study.best()!.value;
  }

  it('steer the sampler at once: 6 trials after 30 priors beat 6 startup trials, on every seed', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const warm = await bestOf(seed, true);
      const cold = await bestOf(seed, false);
      assert.ok(warm < cold, `seed ${seed}: with priors ${warm}, without ${cold}`);
    }
  });

  it('are neither trials of the study nor its best, and leave maxTrials whole', async () => {
    const study = createStudy(
      { parameters: space, objective, algorithm: { name: 'tpe' }, maxTrials: 3 },
      { priors: [{ params: { x: 0.8, y: 0.2 }, state: 'Succeeded', value: 0 }, ...priors] },
    );
    assert.equal(study.remaining, 3);
    const [t] = await study.ask();
    assert.equal(t?.id, 0, 'the first trial of the study is trial 0');
    study.tell(t!.id, 5);
    assert.equal(study.history().length, 1);
    assert.deepEqual(study.best(), { id: 0, params: t!.params, value: 5 });
  });
});
