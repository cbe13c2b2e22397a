import type { Assignment } from '../api/parameter.js';
import { StudyConfig, type StudyConfigInput } from '../api/study.js';
import type { IntermediateValue, TrialState } from '../api/trial.js';
import { ValidationError } from './validation-error.js';
import type { PruneDecision } from './pruner.js';
import type { BestTrialView, EngineOptions, StudyOutcome } from './study-engine.js';
import { StudyEngine } from './study-engine.js';
import type { TrialView } from './trial-view.js';

export interface AskedTrial {
  id: number;
  params: Assignment;
}

/**
 * What a trial produced: its objective value, or (several objectives, or constraints) its
 * values in the order of `objectives` plus the metrics the constraints bound.
 */
export type TellResult =
  | number
  | { values: number | readonly number[]; metrics?: Readonly<Record<string, number>> }
  | { state: 'failed'; reason?: string }
  | { state: 'pruned' };

export interface ParetoResult {
  id: number;
  params: Assignment;
  values: number[];
}

export interface BestResult {
  id: number;
  params: Assignment;
  value: number;
}

interface MutableTrial {
  index: number;
  params: Assignment;
  state: TrialState;
  value?: number;
  metrics?: Record<string, number>;
  intermediate: IntermediateValue[];
}

/**
 * In-process ask/tell, in the spirit of Optuna's: the caller runs trials however it likes and
 * reports back. `ask(n)` ignores `parallelism` (the caller decides what runs at once) and
 * returns exactly n trials, or throws when fewer are left (see `remaining`).
 */
export class Study {
  private readonly engine: StudyEngine;
  private readonly trials: MutableTrial[] = [];

  constructor(config: StudyConfig, options: EngineOptions = {}) {
    this.engine = new StudyEngine(config, options);
  }

  /**
   * Trials that ask() can still give: Infinity without maxTrials and with an unbounded sampler,
   * 0 once the study is over (target reached, too many failures) or suspended.
   */
  get remaining(): number {
    return this.engine.budget(this.trials, Infinity);
  }

  /** True when ask() has no trial left to give; `remaining` and ask()'s error say why. */
  get exhausted(): boolean {
    return this.remaining === 0;
  }

  async ask(n = 1): Promise<AskedTrial[]> {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`ask(${n}): n must be a whole number >= 1`);
    const left = this.remaining;
    if (n > left) throw new Error(`ask(${n}): ${this.whyNoMore(left)}`);
    const planned = await this.engine.plan(this.trials, n);
    for (const p of planned)
      this.trials.push({ index: p.index, params: p.params, state: 'Running', intermediate: [] });
    return planned.map((p) => ({ id: p.index, params: p.params }));
  }

  /** Records a completed evaluation you ran yourself (warm start from earlier results). */
  add(params: Assignment, value: number): number {
    if (!this.engine.space.contains(params))
      throw new Error(`add: ${JSON.stringify(params)} is outside the search space`);
    const index = this.trials.reduce((m, t) => Math.max(m, t.index + 1), 0);
    this.trials.push({ index, params, state: 'Succeeded', value, intermediate: [] });
    return index;
  }

  /** Reports an intermediate value; the answer says whether the trial should stop now. */
  report(id: number, step: number, value: number): PruneDecision {
    const trial = this.running(id, 'report');
    if (Number.isFinite(value)) trial.intermediate.push({ step, value });
    return this.engine.prune(trial, this.trials);
  }

  tell(id: number, result: TellResult): void {
    const trial = this.running(id, 'tell');
    if (typeof result === 'object' && 'state' in result) {
      trial.state = result.state === 'failed' ? 'Failed' : 'Pruned';
      return;
    }
    const values = typeof result === 'number' ? [result] : [result.values].flat();
    const objectives = this.engine.objectives;
    if (values.length !== objectives.length)
      throw new Error(
        `tell(${id}): got ${values.length} values for ${objectives.length} objectives (${objectives.map((o) => o.metric).join(', ')})`,
      );
    if (!values.every(Number.isFinite)) {
      trial.state = 'Failed';
      return;
    }
    trial.state = 'Succeeded';
    trial.value = values[0] as number;
    trial.metrics = {
      ...(typeof result === 'object' ? result.metrics : {}),
      ...Object.fromEntries(objectives.map((o, i) => [o.metric, values[i] as number])),
    };
  }

  /** The feasible non-dominated trials, by id; with one objective, the trials tied for best. */
  paretoFront(): ParetoResult[] {
    return this.engine
      .paretoFront(this.trials)
      .map((p) => ({ id: p.trial.index, params: p.trial.params, values: p.values }));
  }

  best(): BestResult | undefined {
    const best: BestTrialView | undefined = this.engine.best(this.trials);
    return best && { id: best.trial.index, params: best.trial.params, value: best.value };
  }

  outcome(): StudyOutcome {
    return this.engine.outcome(this.trials);
  }

  history(): readonly TrialView[] {
    return this.trials;
  }

  private whyNoMore(left: number): string {
    const outcome = this.engine.outcome(this.trials);
    if (outcome.done) return `the study is over (${outcome.reason}): ${outcome.message}`;
    if (this.engine.spec.suspend) return 'the study is suspended (suspend: true)';
    const taken = this.trials.length;
    const limit =
      taken + left === this.engine.spec.maxTrials
        ? `maxTrials is ${this.engine.spec.maxTrials}`
        : `the search space has ${taken + left} points`;
    return `only ${left} trials are left: ${limit} and ${taken} trials were asked or added`;
  }

  private running(id: number, verb: string): MutableTrial {
    const trial = this.trials.find((t) => t.index === id);
    if (!trial) throw new Error(`${verb}: no trial with id ${id}`);
    if (trial.state !== 'Running') throw new Error(`${verb}: trial ${id} already finished (${trial.state})`);
    return trial;
  }
}

/**
 * Validates the config with the Study schema (minus trialTemplate) and starts a study. Unlike a
 * Study manifest, a study made here has no trial limit unless `maxTrials` is given: the caller's
 * loop decides when to stop.
 */
export function createStudy(input: StudyConfigInput, options: EngineOptions = {}): Study {
  const parsed = StudyConfig.safeParse(input, { reportInput: true });
  if (!parsed.success) throw ValidationError.fromZod(parsed.error);
  return new Study({ ...parsed.data, maxTrials: input.maxTrials ?? Infinity }, options);
}
