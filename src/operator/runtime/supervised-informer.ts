// client-node's informer (ListWatch) relists by itself only on 410 Gone. Any other failure
// (apiserver restart, network error, 401/403, a failed list) emits `error` and the informer
// stops for good; a half-open TCP connection leaves the watch silent forever. This wrapper
// owns the informer's lifecycle: it restarts it with jittered exponential backoff (one restart
// at a time), relists when nothing has been heard for too long, and keeps its own cache across
// restarts so that deletions missed while the watch was down are still reported.
import type { Informer, KubeConfig, KubernetesObject, ListPromise } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorMessage } from './kube-errors.js';
import { makeListWatch, type ListWatchHooks } from './list-watch.js';

export type InformerFactory<T extends KubernetesObject> = (
  kc: KubeConfig,
  path: string,
  list: ListPromise<T>,
  labelSelector: string | undefined,
  hooks: ListWatchHooks<T>,
) => Informer<T>;

export interface SupervisedInformerOptions<T extends KubernetesObject> {
  name: string;
  /** Watch path, e.g. `/apis/kubetune.dev/v1alpha1/namespaces/ns/studies`. */
  path: string;
  list: ListPromise<T>;
  labelSelector?: string;
  logger: Logger;
  /** Relist when no event, (re)connect or list has been seen for this long. Default 5 min. */
  maxSilenceMs?: number;
  /** Restart delay: base·2^failures capped at max, then jittered to 50–100 %. Default 1 s / 30 s. */
  backoff?: { baseMs: number; maxMs: number };
  /** A generation that has been listed this long counts as healthy: the backoff starts over. */
  resetAfterMs?: number;
  onRestart?: (reason: string) => void;
  /** Defaults to makeListWatch (bookmarks requested); tests of the supervision logic inject a fake. */
  factory?: InformerFactory<T>;
  /**
   * Trims each object before it is cached (listed or watched): the cache keeps only what its
   * readers use. It must keep metadata.name, namespace and resourceVersion.
   */
  transform?: (obj: T) => T;
  random?: () => number;
  /**
   * A secondary index (e.g. namespace/study label), so that reading one study's objects costs
   * O(its objects) rather than a scan of the cache. Objects it maps to undefined are not indexed.
   */
  indexBy?: (obj: T) => string | undefined;
}

type EventName = 'add' | 'update' | 'delete';
type Handler<T> = (obj: T, previous?: T) => void;

const keyOf = (obj: KubernetesObject) => `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;

const sameVersion = (a: KubernetesObject, b: KubernetesObject) => {
  const rv = a.metadata?.resourceVersion;
  return rv !== undefined && rv === b.metadata?.resourceVersion;
};

export class SupervisedInformer<T extends KubernetesObject> {
  /** Restarts scheduled so far (errors, failed lists and silence). */
  restarts = 0;
  onRestart?: (reason: string) => void;

  private readonly opts: SupervisedInformerOptions<T>;
  private readonly log: Logger;
  private readonly factory: InformerFactory<T>;
  private readonly maxSilenceMs: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly resetAfterMs: number;
  private readonly random: () => number;
  private readonly cache = new Map<string, T>();
  private readonly index = new Map<string, Map<string, T>>();
  private readonly handlers: Record<EventName, Handler<T>[]> = { add: [], update: [], delete: [] };
  private current: Informer<T> | undefined;
  private currentListedAt: number | undefined;
  private lastActivity = 0;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = true;
  private firstSync: { resolve(): void; reject(err: Error): void } | undefined;
  private listed = false;
  private lastFailure: unknown;

  constructor(
    private readonly kc: KubeConfig,
    opts: SupervisedInformerOptions<T>,
  ) {
    this.opts = opts;
    this.log = opts.logger.child({ informer: opts.name });
    this.factory = opts.factory ?? makeListWatch;
    this.maxSilenceMs = opts.maxSilenceMs ?? 5 * 60_000;
    this.backoff = opts.backoff ?? { baseMs: 1000, maxMs: 30_000 };
    this.resetAfterMs = opts.resetAfterMs ?? 2 * 60_000;
    this.random = opts.random ?? Math.random;
    this.onRestart = opts.onRestart;
  }

  get name(): string {
    return this.opts.name;
  }

  /** Whether a list has ever succeeded: before that the cache stands for nothing. */
  get synced(): boolean {
    return this.listed;
  }

  /** The error of the last failed list or watch since the last successful list, if any. */
  get failure(): unknown {
    return this.lastFailure;
  }

  /** `previous` is what the cache held before an update. */
  on(event: EventName, cb: Handler<T>): void {
    this.handlers[event].push(cb);
  }

  /**
   * Starts watching; resolves after the first successful list (failed lists are retried with
   * backoff, not reported here). Rejects only if stop() is called before that.
   */
  start(): Promise<void> {
    if (!this.stopped) throw new Error(`informer ${this.opts.name} already started`);
    this.stopped = false;
    const synced = new Promise<void>((resolve, reject) => (this.firstSync = { resolve, reject }));
    this.launch();
    const every = Math.max(10, Math.min(this.maxSilenceMs / 4, 30_000));
    this.watchdog = setInterval(() => this.checkSilence(), every);
    return synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.watchdog);
    clearTimeout(this.restartTimer);
    this.watchdog = this.restartTimer = undefined;
    const old = this.detach();
    this.firstSync?.reject(new Error(`informer ${this.opts.name} stopped before its first list`));
    this.firstSync = undefined;
    await old?.stop().catch(() => undefined);
  }

  /** The cached objects; during an outage this is the last known state, not an empty list. */
  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(`${namespace ?? ''}/${name}`);
  }

  /** The cached objects `indexBy` maps to `value`. */
  indexed(value: string): T[] {
    const bucket = this.index.get(value);
    return bucket ? [...bucket.values()] : [];
  }

  private launch(): void {
    const { transform } = this.opts;
    const list: ListPromise<T> = async () => {
      const listed = await this.opts.list();
      const result = transform ? { ...listed, items: listed.items.map(transform) } : listed;
      if (informer === this.current) this.replace(result.items);
      return result;
    };
    const hooks: ListWatchHooks<T> = {
      // A bookmark proves a quiet watch alive: no relist for silence.
      onBookmark: () => informer === this.current && this.touch(),
      ...(transform ? { transform } : {}),
    };
    const informer = this.factory(this.kc, this.opts.path, list, this.opts.labelSelector, hooks);
    this.current = informer;
    this.currentListedAt = undefined;
    this.lastActivity = performance.now();
    const live = () => informer === this.current;
    informer.on('add', (obj) => live() && this.upsert(obj));
    informer.on('update', (obj) => live() && this.upsert(obj));
    informer.on('delete', (obj) => live() && this.remove(obj));
    informer.on('connect', () => live() && this.touch());
    informer.on('error', (err) => live() && this.fail(err, `watch or list failed: ${errorMessage(err)}`));
    informer.start().then(
      // ListWatch starts its watch after the list even if stop() was called meanwhile; stopping
      // again once start() has returned aborts that late watch.
      () => (live() ? undefined : informer.stop().catch(() => undefined)),
      (err: unknown) => live() && this.fail(err, `start failed: ${errorMessage(err)}`),
    );
  }

  /** Detaches the current informer: from here on its events and errors are ignored. */
  private detach(): Informer<T> | undefined {
    const old = this.current;
    this.current = undefined;
    return old;
  }

  private fail(err: unknown, reason: string): void {
    this.lastFailure = err;
    this.scheduleRestart(reason);
  }

  private scheduleRestart(reason: string): void {
    if (this.stopped || this.restartTimer) return;
    const now = performance.now();
    if (this.currentListedAt !== undefined && now - this.currentListedAt >= this.resetAfterMs)
      this.failures = 0;
    const ceiling = Math.min(this.backoff.baseMs * 2 ** this.failures, this.backoff.maxMs);
    const delay = Math.round(ceiling * (0.5 + 0.5 * this.random()));
    this.failures++;
    this.restarts++;
    this.log.warn({ reason, delayMs: delay, restarts: this.restarts }, 'restarting informer');
    try {
      this.onRestart?.(reason);
    } catch (err) {
      this.log.error({ err }, 'onRestart hook threw');
    }
    const old = this.detach();
    void old?.stop().catch(() => undefined);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) this.launch();
    }, delay);
  }

  private checkSilence(): void {
    if (this.stopped || this.restartTimer || !this.current) return;
    const silentMs = performance.now() - this.lastActivity;
    if (silentMs >= this.maxSilenceMs) {
      this.scheduleRestart(`nothing heard for ${Math.round(silentMs / 1000)} s (watch may be half-open)`);
    }
  }

  private touch(): void {
    this.lastActivity = performance.now();
  }

  /** A successful list: report what changed against our cache, including missed deletions. */
  private replace(items: T[]): void {
    this.touch();
    this.currentListedAt = performance.now();
    this.listed = true;
    this.lastFailure = undefined;
    const seen = new Set<string>();
    for (const obj of items) {
      seen.add(keyOf(obj));
      this.upsert(obj);
    }
    for (const [key, obj] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.unindex(key, obj);
        this.emit('delete', obj);
      }
    }
    if (this.firstSync) {
      this.log.info({ objects: this.cache.size }, 'informer synced');
      this.firstSync.resolve();
      this.firstSync = undefined;
    }
  }

  // The informer re-emits the objects we have just taken from the list; the resourceVersion
  // check drops those repeats (as client-node's own cache does).
  private upsert(obj: T): void {
    this.touch();
    const key = keyOf(obj);
    const known = this.cache.get(key);
    if (known && sameVersion(known, obj)) return;
    this.cache.set(key, obj);
    if (known) this.unindex(key, known);
    this.reindex(key, obj);
    this.emit(known ? 'update' : 'add', obj, known);
  }

  private remove(obj: T): void {
    this.touch();
    const key = keyOf(obj);
    const known = this.cache.get(key);
    if (!known) return;
    this.cache.delete(key);
    this.unindex(key, known);
    this.emit('delete', obj);
  }

  private reindex(key: string, obj: T): void {
    const value = this.opts.indexBy?.(obj);
    if (value === undefined) return;
    let bucket = this.index.get(value);
    if (!bucket) this.index.set(value, (bucket = new Map()));
    bucket.set(key, obj);
  }

  private unindex(key: string, obj: T): void {
    const value = this.opts.indexBy?.(obj);
    if (value === undefined) return;
    const bucket = this.index.get(value);
    bucket?.delete(key);
    if (bucket?.size === 0) this.index.delete(value);
  }

  private emit(event: EventName, obj: T, previous?: T): void {
    for (const cb of this.handlers[event]) {
      try {
        cb(obj, previous);
      } catch (err) {
        this.log.error({ err, event, object: keyOf(obj) }, 'informer event handler threw');
      }
    }
  }
}
