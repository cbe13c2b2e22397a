import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isConflict, isNotFound, errorMessage, isAlreadyExists } from './kube-errors.js';

export interface LeaseObservation {
  holder: string | undefined;
  /** When this candidate saw the lease's record change, by its own clock. */
  observedAt: number;
  durationMs: number;
}

/**
 * Whether `identity` may take the lease now. Expiry is judged by when this candidate last saw the
 * record change, never by the renew time written by another machine's clock (as client-go does).
 */
export function mayAcquire(obs: LeaseObservation | undefined, now: number, identity: string): boolean {
  if (!obs || !obs.holder || obs.holder === identity) return true;
  return now - obs.observedAt >= obs.durationMs;
}

export interface LeaderElectorOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
}

export interface LeaderCallbacks {
  onStartedLeading(signal: AbortSignal): void;
  onStoppedLeading(): void;
  onNewLeader?(identity: string): void;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Leader election on a coordination.k8s.io/v1 Lease, written by hand (client-node has none). */
export class LeaderElector {
  private readonly durationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private observed: LeaseObservation | undefined;
  private observedRecord = '';
  private leading: AbortController | undefined;
  private readonly stopping = new AbortController();
  private lease: V1Lease | undefined;

  constructor(
    private readonly api: CoordinationV1Api,
    private readonly opts: LeaderElectorOptions,
  ) {
    this.durationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
  }

  isLeader(): boolean {
    return this.leading !== undefined;
  }

  async run(cb: LeaderCallbacks): Promise<void> {
    let lastRenew = 0;
    let lastLeader: string | undefined;
    while (!this.stopping.signal.aborted) {
      const ok = await this.tryAcquireOrRenew().catch((err: unknown) => {
        this.opts.logger.debug({ err: errorMessage(err) }, 'lease update failed');
        return false;
      });
      const now = Date.now();
      if (ok) {
        lastRenew = now;
        if (!this.leading) {
          this.leading = new AbortController();
          cb.onStartedLeading(this.leading.signal);
        }
      } else if (this.leading && now - lastRenew > this.renewDeadlineMs) {
        this.leading.abort();
        this.leading = undefined;
        cb.onStoppedLeading();
      }
      const holder = this.observed?.holder;
      if (holder && holder !== lastLeader) {
        lastLeader = holder;
        cb.onNewLeader?.(holder);
      }
      await sleep(this.retryMs, this.stopping.signal);
    }
  }

  /** Stops campaigning and hands the lease over at once if held. */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (!this.leading || !this.lease) return;
    this.leading.abort();
    this.leading = undefined;
    const released: V1Lease = {
      ...this.lease,
      spec: { ...this.lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime() },
    };
    await this.api
      .replaceNamespacedLease({ namespace: this.opts.namespace, name: this.opts.name, body: released })
      .catch(() => undefined);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const now = new Date();
    let current: V1Lease;
    try {
      current = await this.api.readNamespacedLease({ namespace, name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const body: V1Lease = {
        metadata: { name, namespace },
        spec: this.spec(identity, now, now, 0),
      };
      try {
        this.lease = await this.api.createNamespacedLease({ namespace, body });
      } catch (e) {
        if (isAlreadyExists(e)) return false;
        throw e;
      }
      this.observe(this.lease, Date.now());
      return true;
    }
    this.observe(current, Date.now());
    if (!mayAcquire(this.observed, Date.now(), identity)) return false;
    const spec = current.spec ?? {};
    const keep = spec.holderIdentity === identity;
    const body: V1Lease = {
      ...current,
      spec: this.spec(
        identity,
        keep && spec.acquireTime ? new Date(spec.acquireTime) : now,
        now,
        (spec.leaseTransitions ?? 0) + (keep ? 0 : 1),
      ),
    };
    try {
      this.lease = await this.api.replaceNamespacedLease({ namespace, name, body });
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
    this.observe(this.lease, Date.now());
    return true;
  }

  private spec(holder: string, acquired: Date, renewed: Date, transitions: number): V1Lease['spec'] {
    // V1MicroTime serializes with six fractional digits; a plain Date's three are rejected.
    return {
      holderIdentity: holder,
      leaseDurationSeconds: Math.ceil(this.durationMs / 1000),
      acquireTime: new V1MicroTime(acquired.getTime()),
      renewTime: new V1MicroTime(renewed.getTime()),
      leaseTransitions: transitions,
    };
  }

  private observe(lease: V1Lease, at: number): void {
    const spec = lease.spec ?? {};
    const record = `${spec.holderIdentity}|${String(spec.renewTime)}|${spec.leaseDurationSeconds}`;
    if (record !== this.observedRecord || !this.observed) {
      this.observedRecord = record;
      this.observed = {
        holder: spec.holderIdentity || undefined,
        observedAt: at,
        durationMs: (spec.leaseDurationSeconds ?? 15) * 1000,
      };
    }
  }
}
