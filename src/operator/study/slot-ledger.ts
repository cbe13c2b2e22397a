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
export class SlotLedger {
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
