// Leader election on a coordination.k8s.io/v1 Lease, following client-go's leaderelection
// package (client-node has none). The rules that make it safe:
//  - expiry is judged by when *this* candidate last saw the lease record change, on its own
//    monotonic clock, plus the record's leaseDurationSeconds; clocks of different machines are
//    never compared;
//  - every write is a replace carrying the resourceVersion that was read, so two candidates
//    racing for an expired lease cannot both win (the loser gets 409 and retries later);
//  - the leader gives up (aborts its work) when it has not renewed for renewDeadline, which is
//    shorter than the lease duration, so it stops before anyone else may take over;
//  - its writes are fenced by writeBlocked(), which reads the clocks rather than waiting for the
//    renew loop's timer: a process frozen past its deadline (SIGSTOP, a VM pause) must not send
//    a write in the moment between waking up and that timer firing.
import { V1MicroTime } from '@kubernetes/client-node';
import type { CoordinationV1Api, V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorMessage, isAlreadyExists, isConflict, isNotFound } from './kube-errors.js';

/** RFC 3339 with exactly 6 fractional digits, as the apiserver requires for MicroTime fields. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The lease fields that matter for election, in comparable (string) form. */
export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
}

export interface Observation {
  record: LeaseRecord;
  /** Local monotonic time (ms) at which this candidate first saw `record`. */
  observedAt: number;
}

export type Decision =
  | { kind: 'create' }
  | { kind: 'renew' }
  | { kind: 'acquire'; previousHolder: string }
  | { kind: 'wait'; holder: string; expiresInMs: number };

/** What to do given the last observation; `now` is on the same monotonic clock as observedAt. */
export function decide(
  observed: Observation | undefined,
  now: number,
  identity: string,
  fallbackDurationMs = 15_000,
): Decision {
  if (!observed) return { kind: 'create' };
  const { holderIdentity: holder, leaseDurationSeconds } = observed.record;
  if (holder === identity) return { kind: 'renew' };
  if (holder === '') return { kind: 'acquire', previousHolder: '' };
  const durationMs = leaseDurationSeconds !== undefined ? leaseDurationSeconds * 1000 : fallbackDurationMs;
  const expiresInMs = observed.observedAt + durationMs - now;
  if (expiresInMs > 0) return { kind: 'wait', holder, expiresInMs };
  return { kind: 'acquire', previousHolder: holder };
}

const sameRecord = (a: LeaseRecord, b: LeaseRecord) =>
  a.holderIdentity === b.holderIdentity &&
  a.leaseDurationSeconds === b.leaseDurationSeconds &&
  a.acquireTime === b.acquireTime &&
  a.renewTime === b.renewTime &&
  a.leaseTransitions === b.leaseTransitions;

/** Keeps the previous observation time while the record is unchanged (a leader that stopped renewing). */
export function observe(prev: Observation | undefined, record: LeaseRecord, now: number): Observation {
  return prev && sameRecord(prev.record, record) ? prev : { record, observedAt: now };
}

// client-node deserializes MicroTime fields as the raw string (V1MicroTime is not in its type
// map), but accept Dates too in case that changes.
const timeText = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : v instanceof Date ? v.toISOString() : String(v);

export function recordOf(lease: V1Lease): LeaseRecord {
  const s = lease.spec ?? {};
  return {
    holderIdentity: s.holderIdentity ?? '',
    leaseDurationSeconds: s.leaseDurationSeconds,
    acquireTime: timeText(s.acquireTime),
    renewTime: timeText(s.renewTime),
    leaseTransitions: s.leaseTransitions ?? 0,
  };
}

export interface LeaderCallbacks {
  /** Leadership gained; `signal` aborts when it is lost or stop() is called. */
  onStartedLeading(signal: AbortSignal): void;
  /** Called once after each onStartedLeading, when leadership ends for any reason. */
  onStoppedLeading(): void;
  /** Someone (possibly this candidate) was observed holding the lease. */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectorOptions {
  namespace: string;
  name: string;
  /** Unique per process (e.g. pod name plus a random suffix). */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
  random?: () => number;
}

type Attempt = 'ok' | 'held' | 'failed';

const JITTER = 1.2; // client-go's JitterFactor for acquire retries

export class LeaderElector {
  private readonly opts: Required<Omit<LeaderElectorOptions, 'logger' | 'random'>>;
  private readonly log: Logger;
  private readonly random: () => number;
  private observed: Observation | undefined;
  private reportedLeader = '';
  private leading: AbortController | undefined;
  private callbacks: LeaderCallbacks | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: AbortController = new AbortController();
  /** When the last successful acquire or renew began, on both clocks (see writeBlocked). */
  private renewedAt: { mono: number; wall: number } | undefined;

  constructor(
    private readonly api: CoordinationV1Api,
    opts: LeaderElectorOptions,
  ) {
    this.opts = {
      namespace: opts.namespace,
      name: opts.name,
      identity: opts.identity,
      leaseDurationMs: opts.leaseDurationMs ?? 15_000,
      renewDeadlineMs: opts.renewDeadlineMs ?? 10_000,
      retryPeriodMs: opts.retryPeriodMs ?? 2_000,
    };
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = this.opts;
    if (!(leaseDurationMs > renewDeadlineMs)) throw new Error('leaseDurationMs must exceed renewDeadlineMs');
    if (!(renewDeadlineMs > JITTER * retryPeriodMs)) {
      throw new Error(`renewDeadlineMs must exceed ${JITTER} × retryPeriodMs`);
    }
    if (!opts.identity) throw new Error('identity must not be empty');
    this.log = opts.logger.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.random = opts.random ?? Math.random;
  }

  isLeader(): boolean {
    return this.leading !== undefined;
  }

  /**
   * Why a write on the leader's behalf must not be sent now, or undefined while it may be. Past
   * renewDeadline since the last successful renew began, another candidate may soon take over.
   * Time is taken from both clocks: the monotonic one cannot be set back, and the wall clock also
   * counts time the machine itself was suspended.
   */
  writeBlocked(): string | undefined {
    if (!this.leading || !this.renewedAt) return 'not the leader';
    const sinceRenew = Math.max(performance.now() - this.renewedAt.mono, Date.now() - this.renewedAt.wall);
    const { renewDeadlineMs } = this.opts;
    if (sinceRenew >= renewDeadlineMs)
      return `lease not renewed for ${Math.round(sinceRenew)} ms (renew deadline ${renewDeadlineMs} ms)`;
    return undefined;
  }

  /** Campaigns, leads, and campaigns again after losing the lease, until stop(). */
  run(callbacks: LeaderCallbacks): Promise<void> {
    if (this.running) throw new Error('LeaderElector.run is already running');
    this.stopped = false;
    this.wake = new AbortController();
    this.callbacks = callbacks;
    this.running = this.loop().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops campaigning; if leading, ends leadership and releases the lease so a successor need not wait. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (!(await this.acquire())) break;
      if (this.stopped) break; // won just as stop() was called: release without leading
      const signal = this.startLeading();
      const reason = await this.renew(signal);
      this.stopLeading(reason);
    }
    // The loop only ends through stop(); leadership (if any) ended above, so hand the lease on.
    await this.release();
  }

  private async acquire(): Promise<boolean> {
    for (;;) {
      if (this.stopped) return false;
      if ((await this.attempt()) === 'ok') return true;
      const { retryPeriodMs } = this.opts;
      await this.sleep(retryPeriodMs * (1 + this.random() * JITTER));
    }
  }

  /** Renews every retryPeriod; returns why leadership ended. */
  private async renew(signal: AbortSignal): Promise<string> {
    const { retryPeriodMs, renewDeadlineMs } = this.opts;
    for (;;) {
      await this.sleep(retryPeriodMs);
      if (this.stopped) return 'stopped';
      if (signal.aborted) return 'aborted';
      const remaining = renewDeadlineMs - (performance.now() - (this.renewedAt?.mono ?? -Infinity));
      const result = remaining > 0 ? await this.attempt(remaining) : 'failed';
      if (result === 'held') return `lease taken by ${this.observed?.record.holderIdentity}`;
      if (result === 'failed' && this.writeBlocked() !== undefined) {
        return `not renewed within ${renewDeadlineMs} ms`;
      }
    }
  }

  private startLeading(): AbortSignal {
    const ac = new AbortController();
    this.leading = ac;
    this.log.info('became leader');
    try {
      this.callbacks?.onStartedLeading(ac.signal);
    } catch (err) {
      this.log.error({ err }, 'onStartedLeading threw');
    }
    return ac.signal;
  }

  private stopLeading(reason: string): void {
    const ac = this.leading;
    if (!ac) return;
    this.leading = undefined;
    this.renewedAt = undefined;
    if (reason === 'stopped') this.log.info('leadership ended: stopping');
    else this.log.warn({ reason }, 'lost leadership');
    ac.abort(new Error(`leadership lost: ${reason}`));
    try {
      this.callbacks?.onStoppedLeading();
    } catch (err) {
      this.log.error({ err }, 'onStoppedLeading threw');
    }
  }

  /** One read-decide-write round, bounded by `timeoutMs` so a hung request cannot outlive the deadline. */
  private attempt(timeoutMs = this.opts.renewDeadlineMs): Promise<Attempt> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Attempt>((resolve) => {
      timer = setTimeout(() => {
        this.log.warn({ timeoutMs }, 'lease request timed out');
        resolve('failed');
      }, timeoutMs);
    });
    const deadline = performance.now() + timeoutMs;
    return Promise.race([this.tryAcquireOrRenew(deadline), timeout]).finally(() => clearTimeout(timer));
  }

  /** `deadline`: after it, the attempt has been given up (the caller has moved on); write nothing. */
  private async tryAcquireOrRenew(deadline: number): Promise<Attempt> {
    const { namespace, name, identity, leaseDurationMs } = this.opts;
    // Before the read: others time the lease from when they see our write, which comes later.
    const began = { mono: performance.now(), wall: Date.now() };
    let lease: V1Lease | undefined;
    try {
      lease = await this.api.readNamespacedLease({ namespace, name });
    } catch (err) {
      if (!isNotFound(err)) {
        this.log.warn({ err: errorMessage(err) }, 'reading the lease failed');
        return 'failed';
      }
    }
    // Taken after the read returns: a later observation can only make expiry later, never earlier.
    const now = performance.now();
    if (lease) {
      this.observed = observe(this.observed, recordOf(lease), now);
      this.reportLeader(this.observed.record.holderIdentity);
    } else {
      this.observed = undefined;
    }
    const decision = decide(this.observed, now, identity, leaseDurationMs);
    if (decision.kind === 'wait') return 'held';
    // A read answered late, e.g. to a process frozen meanwhile, is too old to act on.
    if (performance.now() >= deadline) return 'failed';

    const wallNow = new Date();
    const prev = this.observed?.record;
    const spec: V1LeaseSpec = {
      ...lease?.spec,
      holderIdentity: identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(leaseDurationMs / 1000)),
      acquireTime:
        decision.kind === 'renew' && lease?.spec?.acquireTime ? lease.spec.acquireTime : mt(wallNow),
      renewTime: mt(wallNow),
      leaseTransitions: (prev?.leaseTransitions ?? 0) + (decision.kind === 'acquire' ? 1 : 0),
    };
    try {
      const written = lease
        ? await this.api.replaceNamespacedLease({ namespace, name, body: { ...lease, spec } })
        : await this.api.createNamespacedLease({
            namespace,
            body: {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: { name, namespace },
              spec,
            },
          });
      this.observed = { record: recordOf(written), observedAt: performance.now() };
      this.renewedAt = began;
      if (decision.kind === 'acquire' && decision.previousHolder) {
        this.log.info({ previousHolder: decision.previousHolder }, 'took over an expired lease');
      }
      this.reportLeader(identity);
      return 'ok';
    } catch (err) {
      // Losing a race to another candidate is routine; anything else is worth a warning.
      if (isConflict(err) || isAlreadyExists(err)) this.log.debug('lease changed under us; retrying later');
      else this.log.warn({ err: errorMessage(err) }, 'writing the lease failed');
      return 'failed';
    }
  }

  private async release(): Promise<void> {
    const { namespace, name, identity } = this.opts;
    if (this.observed?.record.holderIdentity !== identity) return;
    try {
      const lease = await this.api.readNamespacedLease({ namespace, name });
      if (lease.spec?.holderIdentity !== identity) return;
      const now = mt(new Date());
      // As client-go's ReleaseOnCancel: no holder and a 1 s duration, so candidates take over at once.
      const spec: V1LeaseSpec = {
        ...lease.spec,
        holderIdentity: undefined,
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
      };
      await this.api.replaceNamespacedLease({ namespace, name, body: { ...lease, spec } });
      this.observed = undefined;
      this.log.info('released the lease');
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'releasing the lease failed; it will expire instead');
    }
  }

  private reportLeader(holder: string): void {
    if (!holder || holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    this.log.info({ leader: holder }, 'new leader observed');
    try {
      this.callbacks?.onNewLeader?.(holder);
    } catch (err) {
      this.log.error({ err }, 'onNewLeader threw');
    }
  }

  /** Sleeps, but returns at once when stop() is called. */
  private sleep(ms: number): Promise<void> {
    if (this.wake.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake.signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** A MicroTime value the client-node serializer writes with 6 fractional digits. */
function mt(date: Date): V1MicroTime {
  return new V1MicroTime(date.getTime());
}
