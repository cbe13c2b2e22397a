import {
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ListPromise,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';

type InnerInformer<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;
export type InformerFactory = <T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  list: ListPromise<T>,
  labelSelector?: string,
) => InnerInformer<T>;
type Event = 'add' | 'update' | 'delete';

export interface SupervisedInformerOptions<T extends KubernetesObject> {
  name: string;
  path: string;
  list: ListPromise<T>;
  labelSelector?: string;
  logger: Logger;
  /** Restart (a full relist) when nothing was heard for this long: watches can go silent on half-open TCP. */
  maxSilenceMs?: number;
  backoff?: { baseMs: number; maxMs: number };
  factory?: InformerFactory;
}

/**
 * client-node's informer relists by itself on 410 Gone but stops for good on any other error,
 * and a failed first list rejects start(). This wrapper keeps one alive: restarts with jittered
 * exponential backoff (one restart in flight), plus a watchdog for watches that fall silent.
 * Restarts relist and re-deliver adds, which level-triggered consumers absorb.
 */
export class SupervisedInformer<T extends KubernetesObject> {
  readonly name: string;
  restarts = 0;
  onRestart: ((reason: string) => void) | undefined;
  private inner: InnerInformer<T> | undefined;
  private readonly handlers: Record<Event, ((obj: T) => void)[]> = { add: [], update: [], delete: [] };
  private lastActivity = Date.now();
  private watchdog: NodeJS.Timeout | undefined;
  private restarting = false;
  private stopped = false;
  private generation = 0;

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: SupervisedInformerOptions<T>,
  ) {
    this.name = opts.name;
  }

  on(event: Event, cb: (obj: T) => void): void {
    this.handlers[event].push(cb);
  }

  list(): T[] {
    return [...(this.inner?.list() ?? [])];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.inner?.get(name, namespace);
  }

  /** Resolves once a first list has succeeded, retrying until then. */
  async start(): Promise<void> {
    await this.connect('start');
    const silence = this.opts.maxSilenceMs ?? 5 * 60_000;
    this.watchdog = setInterval(
      () => {
        if (Date.now() - this.lastActivity > silence)
          void this.restart(`no events for ${Math.round(silence / 1000)}s`);
      },
      Math.max(50, Math.min(silence / 4, 30_000)),
    );
    this.watchdog.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
    const inner = this.inner;
    this.inner = undefined;
    void inner?.stop().catch(() => undefined);
  }

  private create(): InnerInformer<T> {
    const factory = this.opts.factory ?? (makeInformer as InformerFactory);
    const inner = factory<T>(this.kc, this.opts.path, this.opts.list, this.opts.labelSelector);
    const gen = ++this.generation;
    const live = () => gen === this.generation && !this.stopped;
    for (const event of ['add', 'update', 'delete'] as const) {
      inner.on(event, (obj: T) => {
        if (!live()) return;
        this.lastActivity = Date.now();
        for (const cb of this.handlers[event]) cb(obj);
      });
    }
    inner.on('connect', () => {
      if (live()) this.lastActivity = Date.now();
    });
    inner.on('error', (err: unknown) => {
      if (live()) void this.restart(`watch error: ${(err as Error)?.message ?? String(err)}`);
    });
    return inner;
  }

  private async connect(why: string): Promise<void> {
    const { baseMs, maxMs } = this.opts.backoff ?? { baseMs: 200, maxMs: 30_000 };
    for (let attempt = 0; !this.stopped; attempt++) {
      const inner = this.create();
      try {
        await inner.start();
        this.inner = inner;
        this.lastActivity = Date.now();
        return;
      } catch (err) {
        void inner.stop().catch(() => undefined);
        const delay = Math.min(maxMs, baseMs * 2 ** attempt) * (0.5 + Math.random() / 2);
        this.opts.logger.warn(
          { informer: this.name, err: (err as Error).message, retryInMs: Math.round(delay), why },
          'informer list failed',
        );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async restart(reason: string): Promise<void> {
    if (this.restarting || this.stopped) return;
    this.restarting = true;
    try {
      this.restarts++;
      this.onRestart?.(reason);
      // The old cache keeps answering list() until the new one has listed.
      await this.inner?.stop().catch(() => undefined);
      const { baseMs } = this.opts.backoff ?? { baseMs: 200, maxMs: 30_000 };
      await new Promise((r) => setTimeout(r, baseMs * (0.5 + Math.random())));
      await this.connect(reason);
    } finally {
      this.restarting = false;
    }
  }
}
