// What `npm run bench:scale` sees happen in its namespace, from four watches timed with the
// bench's own clock: Jobs created per study, trials finished, pods running, studies finished.
// Watches, not polling, so the bench adds no LISTs or GETs to the numbers it reports.
import type { KubeConfig } from '@kubernetes/client-node';
import { Watch, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { LABEL_STUDY, LABEL_TRIAL } from '../../src/operator/kube/resources.js';
import { TERMINAL_TRIAL_STATES, type TrialState } from '../../src/api/trial.js';

interface Labelled {
  metadata?: { name?: string; labels?: Record<string, string>; resourceVersion?: string };
}

const jobFinished = (job: V1Job) =>
  job.status?.conditions?.some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  ) ?? false;

/** When the bench first saw each step of a trial's end and of its Job's start (local ms). */
export interface TrialTimes {
  /** Its pod Succeeded or Failed: the node reported the container's exit. */
  podDone?: number;
  /** Its Job Complete or Failed: the Job controller's verdict. */
  jobDone?: number;
  /** Its Trial terminal: the operator's verdict. */
  trialDone?: number;
  /** Its pod Running (the trial's Job was created at jobsCreated's time). */
  podRunning?: number;
}

export class Observer {
  /** study -> its Jobs (named after their trials) and the local times (ms) they were first seen. */
  readonly jobsCreated = new Map<string, { trial: string; at: number }[]>();
  /** trial -> first local time its container, Job or Trial was seen finished. */
  readonly trialFinished = new Map<string, { study: string; at: number }>();
  readonly times = new Map<string, TrialTimes>();
  /** trial -> its terminal state. */
  readonly trialsTerminal = new Map<string, TrialState>();
  readonly studiesFinished = new Map<string, string>();
  readonly runningPods = new Set<string>();
  peakRunning = 0;
  watchRestarts = 0;
  private readonly seenJobs = new Set<string>();
  private readonly aborts: AbortController[] = [];
  private stopped = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly namespace: string,
  ) {}

  async start(): Promise<void> {
    const ns = this.namespace;
    await Promise.all([
      this.watch(`/apis/batch/v1/namespaces/${ns}/jobs`, (_t, o) => this.onJob(o as V1Job)),
      this.watch(`/api/v1/namespaces/${ns}/pods`, (t, o) => this.onPod(t, o as V1Pod)),
      this.watch(`/apis/kubetune.io/v1alpha1/namespaces/${ns}/trials`, (_t, o) => this.onTrial(o)),
      this.watch(`/apis/kubetune.io/v1alpha1/namespaces/${ns}/studies`, (_t, o) => this.onStudy(o)),
    ]);
  }

  stop(): void {
    this.stopped = true;
    for (const a of this.aborts) a.abort();
  }

  /** Watches from "now"; a watch the apiserver ends is resumed from the last version seen. */
  private async watch(path: string, on: (type: string, obj: Labelled) => void, rv?: string): Promise<void> {
    let last = rv;
    const resume = (err: unknown) => {
      if (this.stopped) return;
      this.watchRestarts++;
      if (err) console.error(`watch ${path} ended: ${(err as Error).message ?? err}; resuming`);
      void this.watch(path, on, last);
    };
    const ctl = await new Watch(this.kc).watch(
      path,
      { allowWatchBookmarks: true, ...(last ? { resourceVersion: last } : {}) },
      (type, obj: Labelled) => {
        last = obj.metadata?.resourceVersion ?? last;
        if (type !== 'BOOKMARK' && type !== 'ERROR') on(type, obj);
      },
      resume,
    );
    this.aborts.push(ctl);
  }

  /** Trials carry only the study label; their Jobs and pods also name the trial. */
  private finished(obj: Labelled, step: keyof TrialTimes, trial = obj.metadata?.labels?.[LABEL_TRIAL]): void {
    const study = obj.metadata?.labels?.[LABEL_STUDY];
    if (!trial || !study) return;
    const now = performance.now();
    if (!this.trialFinished.has(trial)) this.trialFinished.set(trial, { study, at: now });
    this.saw(trial, step, now);
  }

  private saw(trial: string, step: keyof TrialTimes, at: number): void {
    const t = this.times.get(trial) ?? {};
    t[step] ??= at;
    this.times.set(trial, t);
  }

  private onJob(job: V1Job): void {
    const name = job.metadata?.name ?? '';
    const study = job.metadata?.labels?.[LABEL_STUDY];
    if (study && !this.seenJobs.has(name)) {
      this.seenJobs.add(name);
      const list = this.jobsCreated.get(study) ?? [];
      list.push({ trial: name, at: performance.now() });
      this.jobsCreated.set(study, list);
    }
    if (jobFinished(job)) this.finished(job, 'jobDone');
  }

  private onPod(type: string, pod: V1Pod): void {
    const name = pod.metadata?.name ?? '';
    const phase = pod.status?.phase;
    if (type !== 'DELETED' && phase === 'Running') {
      this.runningPods.add(name);
      this.peakRunning = Math.max(this.peakRunning, this.runningPods.size);
      const trial = pod.metadata?.labels?.[LABEL_TRIAL];
      if (trial) this.saw(trial, 'podRunning', performance.now());
    } else {
      this.runningPods.delete(name);
    }
    if (phase === 'Succeeded' || phase === 'Failed') this.finished(pod, 'podDone');
  }

  private onTrial(trial: Labelled & { status?: { state?: TrialState } }): void {
    const state = trial.status?.state;
    if (state && TERMINAL_TRIAL_STATES.has(state)) {
      this.trialsTerminal.set(trial.metadata?.name ?? '', state);
      this.finished(trial, 'trialDone', trial.metadata?.name);
    }
  }

  private onStudy(study: Labelled & { status?: { phase?: string } }): void {
    const phase = study.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed')
      this.studiesFinished.set(study.metadata?.name ?? '', phase);
  }
}
