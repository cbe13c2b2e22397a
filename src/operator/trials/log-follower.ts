import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { compareTimestamps, LogRequestError, splitTimestamp, streamPodLog } from '../kube/pod-logs.js';

/**
 * How long a stream that ended cleanly waits to be reopened: long enough for the pod's
 * terminated status to reach the operator when the container exited (the common case), short
 * enough that a stream the apiserver closed on a running container loses no time that matters
 * (lines are resumed from the last timestamp, none are lost).
 */
const CLEAN_END_WAIT_MS = 1000;

export interface LogFollowerOptions {
  kc: KubeConfig;
  namespace: string;
  pod: string;
  container: string;
  logger: Logger;
  onLine(text: string): void;
  onReconnect?(): void;
  /** The pod no longer exists (404): the follower has stopped for good. */
  onGone?(): void;
  /**
   * Whether the container is known to have exited. Its log is then complete: a stream that ends
   * is not reopened (the trial's end reads the whole log once more anyway).
   */
  containerEnded?(): boolean;
  maxBackoffMs?: number;
}

/**
 * Follows one container's log through the apiserver for as long as it is wanted. A stream can
 * end for no reason (apiserver restarts, idle proxies), so it resumes with sinceTime; sinceTime
 * has one-second resolution, so lines at or before the last timestamp seen are dropped unless
 * they are new lines sharing that exact timestamp. A pod that is gone (404) never comes back
 * under the same name, so that ends the follower instead of retrying; nor does a container that
 * has exited print more, so once the caller says so, the follower ends with its stream. A stream
 * that ends without an error before that is most often the container exiting, with its pod's new
 * status still on its way: the first reopen waits long enough for it to arrive.
 */
export class LogFollower {
  private readonly abort = new AbortController();
  private lastTs: string | undefined;
  private seenAtLastTs = new Set<string>();
  private stopped = false;
  readonly done: Promise<void>;

  constructor(private readonly opts: LogFollowerOptions) {
    this.done = this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  private accept(raw: string): void {
    const parsed = splitTimestamp(raw);
    if (!parsed) {
      this.opts.onLine(raw);
      return;
    }
    const { ts, text } = parsed;
    if (this.lastTs !== undefined) {
      const cmp = compareTimestamps(ts, this.lastTs);
      if (cmp < 0) return;
      if (cmp === 0 && this.seenAtLastTs.has(text)) return;
      if (cmp > 0) this.seenAtLastTs = new Set();
    }
    this.lastTs = ts;
    this.seenAtLastTs.add(text);
    this.opts.onLine(text);
  }

  private async loop(): Promise<void> {
    let backoff = 250;
    while (!this.stopped) {
      const started = Date.now();
      let clean = false;
      try {
        await streamPodLog(
          this.opts.kc,
          {
            namespace: this.opts.namespace,
            pod: this.opts.pod,
            container: this.opts.container,
            follow: true,
            timestamps: true,
            ...(this.lastTs ? { sinceTime: this.lastTs.replace(/\.\d+/, '') } : {}),
          },
          (line) => this.accept(line),
          this.abort.signal,
        );
        clean = true;
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof LogRequestError && err.status === 404) {
          this.opts.logger.debug({ pod: this.opts.pod }, 'pod is gone; no longer following its log');
          this.stopped = true;
          this.opts.onGone?.();
          break;
        }
        this.opts.logger.debug({ err: (err as Error).message, pod: this.opts.pod }, 'log stream broke');
      }
      if (this.stopped || this.ended()) break;
      // A stream that lasted a while was healthy; start the backoff over.
      if (Date.now() - started > 10_000) backoff = 250;
      const wait = clean ? Math.max(backoff, CLEAN_END_WAIT_MS) : backoff;
      await sleep(wait, undefined, { signal: this.abort.signal }).catch(() => {});
      backoff = Math.min(this.opts.maxBackoffMs ?? 5000, backoff * 2);
      if (this.stopped || this.ended()) break;
      this.opts.onReconnect?.();
    }
  }

  private ended(): boolean {
    if (!this.opts.containerEnded?.()) return false;
    this.stopped = true;
    return true;
  }
}
