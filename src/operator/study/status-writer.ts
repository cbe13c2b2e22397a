import type { Condition, StudyStatus } from '../../api/study.js';
import type { EventRecorder } from '../events.js';
import type { StudyObject } from '../kube/resources.js';
import type { StudyProblem } from './reconcile-errors.js';
import {
  countTrials,
  degradedCondition,
  mergeConditions,
  paretoFrontStatus,
  sameStatus,
  studyConditions,
  studyElapsedSeconds,
  studyPhase,
  usageGpuHours,
  withCondition,
} from './study-status.js';
import type { StudyPass } from './trial-lifecycle.js';
import type { TrialStore } from './trial-store.js';

const stampOf = (now: Date) => now.toISOString().replace(/\.\d+Z$/, 'Z');

/** The failed trial that ended last, as `name: reason: message`. */
function lastFailure(entries: StudyPass['entries']): string | undefined {
  const failed = entries
    .map((e) => e.object)
    .filter((o) => o.status?.state === 'Failed' || o.status?.state === 'MetricsUnavailable')
    .sort((a, b) => (a.status?.completionTime ?? '').localeCompare(b.status?.completionTime ?? ''))
    .at(-1);
  return (
    failed &&
    `${failed.metadata.name}: ${failed.status?.reason ?? failed.status?.state}: ${failed.status?.message ?? ''}`
  );
}

/**
 * Writes what a reconcile found into the Study's status, and an Event when something a user
 * should see changed: the study ended, its spec is invalid, or a problem blocks it (Degraded).
 */
export class StudyStatusWriter {
  constructor(
    private readonly store: TrialStore,
    private readonly events: EventRecorder,
    private readonly hooks: {
      trialCounts?(namespace: string, study: string, counts: Record<string, number>): void;
      gpuSeconds?(namespace: string, study: string, seconds: number): void;
    } = {},
  ) {}

  async write(pass: StudyPass): Promise<void> {
    const { ps, engine, entries } = pass;
    const views = entries.map((e) => e.view);
    const outcome = engine.outcome(views, studyElapsedSeconds(ps.status?.startTime, pass.now));
    const gpuHours = usageGpuHours(views);
    const counts = countTrials(views);
    const phase = studyPhase(outcome, ps.spec.suspend, views);
    const best = engine.best(views);
    const bestEntry = best && entries.find((e) => e.view.index === best.trial.index);
    const previous = ps.status;
    const stamp = stampOf(pass.now);
    const status: StudyStatus = {
      phase,
      observedGeneration: ps.metadata.generation ?? 0,
      conditions: mergeConditions(
        previous?.conditions,
        [...studyConditions(phase, outcome, counts, lastFailure(entries)), degradedCondition(pass.problem)],
        stamp,
        ps.metadata.generation,
      ),
      trials: counts,
      ...(bestEntry && best
        ? {
            bestTrial: {
              name: bestEntry.object.metadata.name,
              index: best.trial.index,
              parameters: bestEntry.object.spec.parameters,
              value: best.value,
              ...(bestEntry.object.status?.metrics ? { metrics: bestEntry.object.status.metrics } : {}),
            },
          }
        : {}),
      ...(engine.multiObjective
        ? {
            paretoFront: paretoFrontStatus(engine.paretoFront(views), (index) => {
              const o = entries.find((e) => e.view.index === index)?.object;
              return o && { name: o.metadata.name, parameters: o.spec.parameters };
            }),
          }
        : {}),
      // Apart from `trials` and `bestTrial`, which never count them.
      ...(pass.priors ? { priors: pass.priors } : {}),
      usage: { gpuHours },
      startTime: previous?.startTime ?? stamp,
      ...(outcome.done ? { completionTime: previous?.completionTime ?? stamp } : {}),
    };
    this.hooks.trialCounts?.(ps.metadata.namespace, ps.metadata.name, counts);
    this.hooks.gpuSeconds?.(ps.metadata.namespace, ps.metadata.name, gpuHours * 3600);
    if (sameStatus(previous, status)) return;
    await this.store.patchStudyStatus(ps.metadata.namespace, ps.metadata.name, status);
    this.announceProblem(ps, previous?.conditions, status.conditions);
    if (previous?.phase !== phase && (phase === 'Succeeded' || phase === 'Failed')) {
      const message = outcome.done ? outcome.message : phase;
      this.events.emit(ps, phase === 'Succeeded' ? 'Normal' : 'Warning', `Study${phase}`, message);
    }
  }

  async reportInvalid(study: StudyObject, message: string, now: Date): Promise<void> {
    const status: StudyStatus = {
      ...(study.status ?? {}),
      phase: 'Failed',
      observedGeneration: study.metadata.generation ?? 0,
      conditions: mergeConditions(
        study.status?.conditions,
        [
          { type: 'Running', status: 'False', reason: 'InvalidSpec', message },
          { type: 'Failed', status: 'True', reason: 'InvalidSpec', message },
        ],
        stampOf(now),
        study.metadata.generation,
      ),
    };
    if (sameStatus(study.status, status)) return;
    await this.store.patchStudyStatus(study.metadata.namespace, study.metadata.name, status);
    this.events.emit(study, 'Warning', 'InvalidSpec', message);
  }

  /** A reconcile that could not finish: only the Degraded condition changes. */
  async reportProblem(study: StudyObject, problem: StudyProblem, now: Date): Promise<void> {
    const previous = study.status?.conditions;
    const conditions = withCondition(
      previous,
      degradedCondition(problem),
      stampOf(now),
      study.metadata.generation,
    );
    if (sameStatus({ conditions: previous ?? [] }, { conditions })) return;
    await this.store.patchStudyConditions(study.metadata.namespace, study.metadata.name, conditions);
    this.announceProblem(study, previous, conditions);
  }

  /** One Event per new problem, not one per reconcile that still has it. */
  private announceProblem(
    study: StudyObject,
    before: Condition[] | undefined,
    after: Condition[] | undefined,
  ) {
    const was = before?.find((c) => c.type === 'Degraded');
    const now = after?.find((c) => c.type === 'Degraded');
    if (now?.status !== 'True') return;
    if (was?.status === 'True' && was.reason === now.reason && was.message === now.message) return;
    this.events.emit(study, 'Warning', now.reason, now.message);
  }
}
