export interface WorkQueueHooks {
  onAdd?(): void;
  onDepth?(depth: number): void;
  onQueueLatency?(seconds: number): void;
  onWorkDuration?(seconds: number): void;
  onRetry?(): void;
}

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * A work queue with client-go's guarantees: a key waits in the queue at most once, is never
 * handed to two workers at the same time, and a key added while it is being processed is
 * processed again afterwards (so no event is lost, and reconciles of one object never race).
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Map<string, number>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private waiters: (() => void)[] = [];
  private shuttingDown = false;
  hooks: WorkQueueHooks = {};

  constructor(private readonly opts: WorkQueueOptions = {}) {}

  get length(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.set(key, performance.now());
    this.queue.push(key);
    this.hooks.onAdd?.();
    this.hooks.onDepth?.(this.queue.length);
    this.wakeOne();
  }

  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  /** Per-key exponential backoff, for keys whose processing failed. */
  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.hooks.onRetry?.();
    const delay = Math.min(this.opts.maxDelayMs ?? 60_000, (this.opts.baseDelayMs ?? 5) * 2 ** n);
    this.addAfter(key, delay);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private wakeOne(): void {
    this.waiters.shift()?.();
  }

  private async next(): Promise<string | undefined> {
    while (!this.shuttingDown) {
      const key = this.queue.shift();
      if (key !== undefined) {
        const since = this.queued.get(key) ?? performance.now();
        this.queued.delete(key);
        this.processing.add(key);
        this.hooks.onDepth?.(this.queue.length);
        this.hooks.onQueueLatency?.((performance.now() - since) / 1000);
        return key;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return undefined;
  }

  private done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  /** Runs `workers` loops until shutDown(); a failing key is retried with backoff. */
  async run(workers: number, handler: (key: string) => Promise<void>, signal?: AbortSignal): Promise<void> {
    signal?.addEventListener('abort', () => this.shutDown(), { once: true });
    const worker = async () => {
      for (;;) {
        const key = await this.next();
        if (key === undefined) return;
        const started = performance.now();
        try {
          await handler(key);
          this.forget(key);
        } catch {
          if (!this.shuttingDown) this.addRateLimited(key);
        } finally {
          this.hooks.onWorkDuration?.((performance.now() - started) / 1000);
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, worker));
  }
}
