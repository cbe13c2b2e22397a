// A rate-limited, delaying work queue with client-go's workqueue guarantees, so that a
// level-triggered reconciler never runs twice at once for the same object and never loses a
// change that arrives while it is running:
//  - a key is queued at most once (adds of a queued key are merged);
//  - a key being processed is not handed to another worker; an add during processing marks it
//    dirty and it is queued again when processing finishes.

export interface WorkQueueHooks {
  /** A key became dirty (client-go counts these as adds, merged ones excluded). */
  onAdd?(key: string): void;
  /** The number of keys waiting to be handed to a worker. */
  onDepth?(depth: number): void;
  /** Seconds between a key becoming dirty and a worker taking it. */
  onQueueLatency?(seconds: number): void;
  /** Seconds a handler took. */
  onWorkDuration?(seconds: number): void;
  /** A key was re-added with backoff. */
  onRetry?(key: string): void;
  /** A handler threw; the key has been re-added with backoff. */
  onError?(key: string, err: unknown): void;
}

export interface WorkQueueOptions {
  name?: string;
  /** First per-key retry delay; doubles on each consecutive failure. Default 5 ms (client-go). */
  baseDelayMs?: number;
  /** Cap of the per-key retry delay. Default 60 s. */
  maxDelayMs?: number;
  /**
   * Overall retry rate limit shared by all keys, as in client-go's default controller rate
   * limiter (10 qps, burst 100), so a mass failure cannot hammer the apiserver. `false` disables.
   */
  bucket?: { qps: number; burst: number } | false;
  hooks?: WorkQueueHooks;
  now?: () => number;
}

/**
 * What a handler may return: nothing (done, backoff reset), `requeueAfterMs` (backoff reset,
 * process again later, like controller-runtime's RequeueAfter) or `requeue` (again with backoff).
 */
export type HandlerResult = void | { requeue?: boolean; requeueAfterMs?: number };

export class WorkQueue {
  readonly name: string;
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirtySince = new Map<string, number>();
  private readonly waiting = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly waiters: (() => void)[] = [];
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly bucket: { qps: number; burst: number } | undefined;
  private tokens: number;
  private tokensAt: number;
  private shuttingDown = false;
  private readonly hooks: WorkQueueHooks;
  private readonly now: () => number;

  constructor(opts: WorkQueueOptions = {}) {
    this.name = opts.name ?? 'default';
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
    this.bucket = opts.bucket === false ? undefined : (opts.bucket ?? { qps: 10, burst: 100 });
    this.hooks = opts.hooks ?? {};
    this.now = opts.now ?? (() => performance.now());
    this.tokens = this.bucket?.burst ?? 0;
    this.tokensAt = this.now();
  }

  /** Keys waiting for a worker (not counting delayed or in-flight keys). */
  get length(): number {
    return this.queue.length;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.hooks.onAdd?.(key);
    this.dirty.add(key);
    this.dirtySince.set(key, this.now());
    if (this.processing.has(key)) return; // re-queued by done()
    this.push(key);
  }

  /** Adds the key after `ms`; while waiting, an earlier request for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.now() + ms;
    const existing = this.waiting.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    const delay = Math.max(this.itemDelay(key), this.bucketDelay());
    this.hooks.onRetry?.(key);
    this.addAfter(key, delay);
  }

  /** Resets the key's backoff (call after it was processed successfully). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Consecutive rate-limited adds of the key since it was last forgotten. */
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /**
   * Stops accepting adds and drops delayed keys. With `drain` (the default) queued keys are
   * still handed out; without it they are dropped (e.g. after losing leadership). Either way
   * `run` resolves once in-flight handlers have finished.
   */
  shutDown(opts: { drain?: boolean } = {}): void {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    if (opts.drain === false) {
      // Clearing dirty too keeps done() from re-queueing keys that were added mid-processing.
      this.dirty.clear();
      this.dirtySince.clear();
      this.queue.length = 0;
      this.hooks.onDepth?.(0);
    }
    this.wakeAll();
  }

  /**
   * Processes keys with at most `workers` handlers in flight until the queue is shut down (by
   * `shutDown()` or `signal`) and drained. A handler that throws gets its key re-added with
   * backoff; one that returns normally has its backoff reset.
   */
  async run(
    workers: number,
    handler: (key: string) => Promise<HandlerResult>,
    signal?: AbortSignal,
  ): Promise<void> {
    const onAbort = () => this.shutDown();
    if (signal?.aborted) this.shutDown();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const loops = Array.from({ length: Math.max(1, workers) }, () => this.worker(handler));
      await Promise.all(loops);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Takes the next key, waiting for one; undefined once shut down and drained. */
  async get(): Promise<string | undefined> {
    for (;;) {
      const key = this.queue.shift();
      if (key !== undefined) {
        this.hooks.onDepth?.(this.queue.length);
        this.processing.add(key);
        this.dirty.delete(key);
        const since = this.dirtySince.get(key);
        this.dirtySince.delete(key);
        if (since !== undefined) this.hooks.onQueueLatency?.((this.now() - since) / 1000);
        return key;
      }
      if (this.shuttingDown) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Marks the key processed; if it was added meanwhile it goes back in the queue. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
  }

  private async worker(handler: (key: string) => Promise<HandlerResult>): Promise<void> {
    for (;;) {
      const key = await this.get();
      if (key === undefined) return;
      const started = this.now();
      try {
        const result = await handler(key);
        if (result?.requeue) {
          this.addRateLimited(key);
        } else {
          this.forget(key);
          if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
        }
      } catch (err) {
        this.addRateLimited(key);
        this.hooks.onError?.(key, err);
      } finally {
        this.hooks.onWorkDuration?.((this.now() - started) / 1000);
        this.done(key);
      }
    }
  }

  private push(key: string): void {
    this.queue.push(key);
    this.hooks.onDepth?.(this.queue.length);
    this.waiters.shift()?.();
  }

  private wakeAll(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  private itemDelay(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2^n overflows to Infinity long before n gets large; the cap handles it.
    return Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
  }

  /** Reserves a token; returns how long the caller must wait for it (x/time/rate semantics). */
  private bucketDelay(): number {
    if (!this.bucket) return 0;
    const now = this.now();
    const { qps, burst } = this.bucket;
    this.tokens = Math.min(burst, this.tokens + ((now - this.tokensAt) / 1000) * qps);
    this.tokensAt = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / qps) * 1000;
  }
}
