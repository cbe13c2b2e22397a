import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createStudy } from '../../../src/engine/ask-tell.js';

const parameters = [{ name: 'x', type: 'double' as const, min: 0, max: 1 }];
const objective = { metric: 'loss', goal: 'minimize' as const };

describe('ask/tell trial limits', () => {
  it('has no limit unless maxTrials is given', async () => {
    const study = createStudy({ parameters, objective, algorithm: { name: 'random' } });
    for (let i = 0; i < 30; i++) {
      const [t] = await study.ask();
      assert.ok(t, `ask() gave no trial after ${i}`);
      study.tell(t.id, t.params['x'] as number);
    }
    assert.equal(study.remaining, Infinity);
    assert.equal(study.exhausted, false);
  });

  it('counts down to maxTrials and refuses to ask for more than is left', async () => {
    const study = createStudy({ parameters, objective, algorithm: { name: 'random' }, maxTrials: 5 });
    assert.equal(study.remaining, 5);
    assert.equal((await study.ask(3)).length, 3);
    assert.equal(study.remaining, 2);
    await assert.rejects(study.ask(3), {
      message: 'ask(3): only 2 trials are left: maxTrials is 5 and 3 trials were asked or added',
    });
    assert.equal(study.remaining, 2, 'a refused ask() takes nothing');
    study.add({ x: 0.5 }, 1);
    assert.equal((await study.ask(1)).length, 1);
    assert.equal(study.remaining, 0);
    assert.equal(study.exhausted, true);
    await assert.rejects(study.ask(), /^Error: ask\(1\): only 0 trials are left: maxTrials is 5/);
  });

  it('counts the grid when it is smaller than maxTrials', async () => {
    const study = createStudy({
      parameters: [{ name: 'k', type: 'int' as const, min: 1, max: 4 }],
      objective,
      algorithm: { name: 'grid' },
    });
    assert.equal(study.remaining, 4);
    await study.ask(4);
    assert.equal(study.exhausted, true);
    await assert.rejects(study.ask(), {
      message:
        'ask(1): only 0 trials are left: the search space has 4 points and 4 trials were asked or added',
    });
  });

  it('is exhausted once the study is over, and says why', async () => {
    const study = createStudy({
      parameters,
      objective: { ...objective, target: 0.5 },
      algorithm: { name: 'random' },
    });
    const [t] = await study.ask();
    study.tell(t!.id, 0.1);
    assert.equal(study.exhausted, true);
    assert.equal(study.remaining, 0);
    await assert.rejects(study.ask(), {
      message: 'ask(1): the study is over (TargetReached): trial 0 reached loss=0.1 (target 0.5)',
    });
  });

  it('refuses a count that is not a whole number of at least 1', async () => {
    const study = createStudy({ parameters, objective });
    await assert.rejects(study.ask(0), {
      name: 'RangeError',
      message: 'ask(0): n must be a whole number >= 1',
    });
    await assert.rejects(study.ask(1.5), { name: 'RangeError' });
  });
});
