import type { StudyPhase } from '../../api/study.js';
import { TERMINAL_TRIAL_STATES, type TrialState } from '../../api/trial.js';
import { fairShare, type Capacity, type ShareClaim } from './fair-share.js';
import { maxGpuRequest, trialGpuCounter, type GpuStudySpec } from '../../engine/gpu-request.js';

/** What the reconciler asks of an operator-wide cap; fair-share ledgers also take profiles and settle grants. */
export interface TrialLedger {
  available(studyKey: string, wanted: number): number;
  /** `gpus`: what the trial holds, counted from its rendered template (trialGpus). */
  reserve(studyKey: string, trialKey: string, gpus?: number): boolean;
  release(trialKey: string): void;
  hold(studyKey: string, trialKey: string, gpus?: number): void;
  sync(studyKey: string, activeTrialKeys: Iterable<string>, gpusOf?: (trialKey: string) => number): void;
  forgetStudy(studyKey: string): void;
  profile?(studyKey: string, profile: StudyShareProfile): void;
  announce?(studyKey: string, profile: StudyShareProfile, demand: number): void;
  settle?(studyKey: string): void;
}

/**
 * Reservations of the operator-wide trial slots (`--max-concurrent-trials`). Several workers
 * reconcile different studies at once, and each of them would see the same free slots in a
 * cache that lags their own creations; a reservation is taken synchronously, before the Trial
 * is created, so the cap holds with any number of workers.
 *
 * A slot is held per active (non-terminal) trial. It is released when the trial is observed
 * terminal or has vanished, or when creating it failed. Studies that wanted a slot and found
 * none are handed to `onFreed` when one frees up, so they need not wait for a resync.
 */
export class SlotLedger implements TrialLedger {
  /** trial key → study key */
  private readonly held = new Map<string, string>();
  private readonly waiting = new Set<string>();

  constructor(
    readonly capacity: number,
    private readonly onFreed?: (studyKey: string) => void,
  ) {}

  get inUse(): number {
    return this.held.size;
  }

  /** How many of `wanted` new trials the study may try to reserve now. */
  available(studyKey: string, wanted: number): number {
    const free = Math.max(0, this.capacity - this.held.size);
    if (free < wanted) this.waiting.add(studyKey);
    return Math.min(free, wanted);
  }

  /** Takes a slot for the trial; false (and the study is woken later) when none is free. */
  reserve(studyKey: string, trialKey: string): boolean {
    if (this.held.has(trialKey)) return true;
    if (this.held.size >= this.capacity) {
      this.waiting.add(studyKey);
      return false;
    }
    this.held.set(trialKey, studyKey);
    return true;
  }

  release(trialKey: string): void {
    if (this.held.delete(trialKey)) this.wake();
  }

  /** Records a trial that is already active (found at startup): it holds a slot even above the cap. */
  hold(studyKey: string, trialKey: string): void {
    this.held.set(trialKey, studyKey);
  }

  /**
   * Makes the study's reservations exactly its active trials, as just listed: trials created
   * before a restart are counted, and trials that ended or vanished unseen free their slots.
   */
  sync(studyKey: string, activeTrialKeys: Iterable<string>): void {
    const active = new Set(activeTrialKeys);
    let freed = false;
    for (const [trial, study] of this.held) {
      if (study === studyKey && !active.has(trial)) {
        this.held.delete(trial);
        freed = true;
      }
    }
    for (const trial of active) this.held.set(trial, studyKey);
    if (freed) this.wake();
  }

  /** The study is gone: its slots are free and it no longer waits for one. */
  forgetStudy(studyKey: string): void {
    this.waiting.delete(studyKey);
    this.sync(studyKey, []);
  }

  private wake(): void {
    if (this.held.size >= this.capacity || this.waiting.size === 0) return;
    const studies = [...this.waiting];
    this.waiting.clear();
    for (const study of studies) this.onFreed?.(study);
  }
}

/** What the fair-share ledger knows of a study, refreshed on every pass over it. */
export interface StudyShareProfile {
  priority: number;
  weight: number;
  /**
   * The most GPUs one of its trials can hold (counts may be parameters): grants are made for
   * this many, so a trial never holds more than it was granted; each holds its own count.
   */
  gpusPerTrial: number;
}

/** The profile of a study spec; defaults apply to a raw spec from the cache. */
export function shareProfile(spec: GpuStudySpec & { priority?: number; weight?: number }): StudyShareProfile {
  return {
    priority: spec.priority ?? 0,
    weight: spec.weight ?? 1,
    gpusPerTrial: maxGpuRequest(spec),
  };
}

/** The GPUs each trial of a study holds, counted from its own rendered template. */
export function trialGpus(
  study: string,
  spec: GpuStudySpec,
): (trial: {
  metadata: { name?: string };
  spec: { index: number; parameters: Record<string, string> };
}) => number {
  const count = trialGpuCounter(study, spec);
  return (t) => count({ name: t.metadata.name ?? '', index: t.spec.index, params: t.spec.parameters });
}

/**
 * The trials a study would start on its next pass, estimated from the cached Study and its
 * cached trials' states, the way the engine counts free slots (parallelism less active trials,
 * bounded by maxTrials less trials so far). The cache may lag the study's own creations, so the
 * estimate errs high; the study's pass replaces it with the exact figure.
 */
export function announcedDemand(
  spec: { parallelism: number; maxTrials: number; suspend?: boolean },
  phase: StudyPhase | undefined,
  trialStates: readonly (TrialState | undefined)[],
): number {
  if (spec.suspend || phase === 'Succeeded' || phase === 'Failed') return 0;
  const active = trialStates.filter((s) => !TERMINAL_TRIAL_STATES.has(s ?? 'Pending')).length;
  return Math.max(0, Math.min(spec.parallelism - active, spec.maxTrials - trialStates.length));
}

interface ShareState extends StudyShareProfile {
  /** Trials it would still start, as of its last pass. */
  demand: number;
  /** Trials granted by `available` and not yet reserved or settled. */
  granted: number;
}

/**
 * The operator-wide GPU cap (`--max-gpus`), divided by weighted max-min fairness (see fairShare).
 * Each study's pass reports what it would start; the grant is computed synchronously over every
 * study's usage and last reported demand and held until the pass reserves or settles it, so the
 * concurrent workers never hand out the same GPU twice. When GPUs free up, every study that was
 * left wanting is woken to claim what it is now entitled to.
 */
export class FairShareLedger implements TrialLedger {
  /** trial key → holder */
  private readonly held = new Map<string, { study: string; gpus: number }>();
  private readonly studies = new Map<string, ShareState>();

  constructor(
    readonly capacity: Capacity,
    private readonly onFreed?: (studyKey: string) => void,
  ) {}

  get gpusInUse(): number {
    let sum = 0;
    for (const h of this.held.values()) sum += h.gpus;
    for (const s of this.studies.values()) sum += s.granted * s.gpusPerTrial;
    return sum;
  }

  /** Records the study's weight, priority and GPUs per trial before anything else in its pass. */
  profile(studyKey: string, profile: StudyShareProfile): void {
    const s = this.studies.get(studyKey);
    this.studies.set(studyKey, { demand: 0, granted: 0, ...s, ...profile });
  }

  /**
   * Records a study's profile and demand as soon as the operator sees it, before its pass: a
   * burst of new studies must not leave the GPUs to whichever one is reconciled first.
   */
  announce(studyKey: string, profile: StudyShareProfile, demand: number): void {
    this.profile(studyKey, profile);
    const state = this.state(studyKey);
    state.demand = Math.max(0, demand - state.granted);
  }

  /** How many of `wanted` new trials the study may start now; they stay granted until reserved or settled. */
  available(studyKey: string, wanted: number): number {
    const state = this.state(studyKey);
    this.returnGrant(state);
    state.demand = wanted;
    const n = fairShare(this.claims(), this.capacity).get(studyKey) ?? 0;
    state.granted = n;
    state.demand = wanted - n;
    return n;
  }

  /**
   * Turns one of the study's grants into the trial's hold of its `gpus` (no more than the
   * gpusPerTrial granted, which bounds every trial; the rest is free again); false when it has
   * none left.
   */
  reserve(studyKey: string, trialKey: string, gpus?: number): boolean {
    if (this.held.has(trialKey)) return true;
    const state = this.state(studyKey);
    if (state.granted < 1) return false;
    state.granted--;
    this.held.set(trialKey, { study: studyKey, gpus: gpus ?? state.gpusPerTrial });
    return true;
  }

  /** The pass is over: grants it did not use go back (it could not use them, so it wants no more now). */
  settle(studyKey: string): void {
    const state = this.studies.get(studyKey);
    if (!state || state.granted === 0) return;
    this.returnGrant(state);
    state.demand = 0;
    this.wake();
  }

  release(trialKey: string): void {
    if (this.held.delete(trialKey)) this.wake();
  }

  /** Records a trial that is already active (found at startup): it holds its GPUs even above the cap. */
  hold(studyKey: string, trialKey: string, gpus?: number): void {
    this.held.set(trialKey, { study: studyKey, gpus: gpus ?? this.state(studyKey).gpusPerTrial });
  }

  /** Makes the study's holds exactly its active trials, as just listed. */
  sync(studyKey: string, activeTrialKeys: Iterable<string>, gpusOf?: (trialKey: string) => number): void {
    const active = new Set(activeTrialKeys);
    let freed = false;
    for (const [trial, h] of this.held) {
      if (h.study === studyKey && !active.has(trial)) {
        this.held.delete(trial);
        freed = true;
      }
    }
    for (const trial of active) if (!this.held.has(trial)) this.hold(studyKey, trial, gpusOf?.(trial));
    if (freed) this.wake();
  }

  forgetStudy(studyKey: string): void {
    this.sync(studyKey, []);
    this.studies.delete(studyKey);
    this.wake();
  }

  /**
   * Per study, the GPUs it holds or has been granted, and the GPUs fairShare would give it over
   * the whole capacity if nothing ran yet, for what it holds and still wants.
   */
  shares(): Map<string, { used: number; entitled: number }> {
    const claims = this.claims();
    const whole = claims.map((c) => ({ ...c, demand: c.usedTrials + c.demand, usedGpus: 0, usedTrials: 0 }));
    const entitled = fairShare(whole, this.capacity);
    return new Map(
      claims.map((c) => [c.key, { used: c.usedGpus, entitled: entitled.get(c.key)! * c.gpusPerTrial }]),
    );
  }

  private state(studyKey: string): ShareState {
    let s = this.studies.get(studyKey);
    if (!s) {
      s = { priority: 0, weight: 1, gpusPerTrial: 0, demand: 0, granted: 0 };
      this.studies.set(studyKey, s);
    }
    return s;
  }

  private returnGrant(state: ShareState): void {
    state.demand += state.granted;
    state.granted = 0;
  }

  private claims(): ShareClaim[] {
    const used = new Map<string, { gpus: number; trials: number }>();
    for (const h of this.held.values()) {
      const u = used.get(h.study) ?? { gpus: 0, trials: 0 };
      used.set(h.study, { gpus: u.gpus + h.gpus, trials: u.trials + 1 });
    }
    return [...this.studies].map(([key, s]) => {
      const u = used.get(key) ?? { gpus: 0, trials: 0 };
      return {
        key,
        priority: s.priority,
        weight: s.weight,
        gpusPerTrial: s.gpusPerTrial,
        demand: s.demand,
        usedGpus: u.gpus + s.granted * s.gpusPerTrial,
        usedTrials: u.trials + s.granted,
      };
    });
  }

  private wake(): void {
    const waiting = [...this.studies].filter(([, s]) => s.demand > 0).map(([key]) => key);
    for (const study of waiting) this.onFreed?.(study);
  }
}
