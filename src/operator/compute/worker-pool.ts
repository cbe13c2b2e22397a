import { type TransferListItem, Worker } from 'node:worker_threads';

/** A task ran past its time budget; its worker was terminated and will be replaced. */
export class BudgetExceededError extends Error {
  constructor(readonly budgetMs: number) {
    super(`no answer within ${budgetMs} ms`);
    this.name = 'BudgetExceededError';
  }
}

/**
 * Starts a worker module. A .ts module (tests, `tsx src/main.ts`) loads tsx into the thread
 * first: tsx registers its loader on the main thread only, so a worker would not read TypeScript.
 */
function startWorker(url: URL): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(
    `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`,
    { eval: true },
  );
}

export interface WorkerPoolOptions {
  /** Module run by each worker; it answers every `{ id, task }` with `{ id, ok, value | error }`. */
  workerUrl: URL;
  size: number;
}

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

interface Job {
  task: unknown;
  transfer: TransferListItem[];
  budgetMs: number;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface Slot {
  worker?: Worker;
  running?: { id: number; job: Job; timer: NodeJS.Timeout };
}

/**
 * A few worker threads for CPU-heavy calls (sampler suggestions, pruning), so the operator's
 * event loop keeps renewing its lease and answering probes while a Study's model is fitted.
 * Each task has a time budget: a worker past it is terminated (the only way to stop a
 * synchronous computation) and a fresh one takes its place for the next task.
 */
export class WorkerPool {
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(private readonly opts: WorkerPoolOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1)
      throw new Error(`worker pool size must be a whole number >= 1, got ${opts.size}`);
    this.slots = Array.from({ length: opts.size }, () => ({}));
    // Started now, so loading the engine into a thread is not charged to the first task's budget.
    for (const slot of this.slots) slot.worker = this.spawn(slot);
  }

  /**
   * Runs `task` on the first free worker; rejects with BudgetExceededError after `budgetMs` of
   * work. `transfer` lists buffers inside `task` that move to the worker instead of being copied.
   */
  run<T>(task: unknown, budgetMs: number, transfer: TransferListItem[] = []): Promise<T> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ task, transfer, budgetMs, resolve: resolve as (v: unknown) => void, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('worker pool is closed'));
    await Promise.all(
      this.slots.map(async (slot) => {
        const worker = slot.worker;
        if (slot.running) this.finish(slot)?.reject(new Error('worker pool is closed'));
        slot.worker = undefined;
        await worker?.terminate();
      }),
    );
  }

  private dispatch(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.running) continue;
      const job = this.queue.shift() as Job;
      const worker = (slot.worker ??= this.spawn(slot));
      const id = this.nextId++;
      const timer = setTimeout(() => this.timeOut(slot, id), job.budgetMs);
      slot.running = { id, job, timer };
      worker.postMessage({ id, task: job.task }, job.transfer);
    }
  }

  private spawn(slot: Slot): Worker {
    const worker = startWorker(this.opts.workerUrl);
    // Idle workers must not keep a finished process (a test, a CLI command) alive.
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      if (slot.worker !== worker || slot.running?.id !== reply.id) return;
      const job = this.finish(slot);
      if (reply.ok) job?.resolve(reply.value);
      else job?.reject(new Error(reply.error));
    });
    worker.on('error', (err) => this.lose(slot, worker, err));
    worker.on('exit', (code) => this.lose(slot, worker, new Error(`worker exited with code ${code}`)));
    return worker;
  }

  private timeOut(slot: Slot, id: number): void {
    if (slot.running?.id !== id) return;
    const job = this.finish(slot);
    void slot.worker?.terminate();
    slot.worker = this.spawn(slot);
    job?.reject(new BudgetExceededError(job.budgetMs));
  }

  /**
   * A worker died on its own (an uncaught error, out of memory, a module that does not load):
   * fail its task; the next dispatch starts another, so a broken worker is not restarted in a loop.
   */
  private lose(slot: Slot, worker: Worker, err: Error): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    this.finish(slot)?.reject(err);
  }

  private finish(slot: Slot): Job | undefined {
    const running = slot.running;
    if (!running) return undefined;
    clearTimeout(running.timer);
    slot.running = undefined;
    // The slot is free again: start the next waiting task once the caller has settled this one.
    queueMicrotask(() => this.dispatch());
    return running.job;
  }
}
