import type { Logger } from 'pino';
import { apiGroup, sameType, typeName, type TrialKind } from '../api/workload-kinds.js';
import type { KindInformers } from './informers.js';
import { errorMessage, statusCode } from './runtime/kube-errors.js';

export interface KindAvailabilityHooks {
  /** The kind's informers have all listed: Studies of the kind can run. */
  onAvailable?(kind: TrialKind): void;
  /** For the kubetune_trial_kind_available gauge. */
  setAvailable?(resource: string, available: boolean): void;
}

/** `jobsets.jobset.x-k8s.io`: how kubectl and the CRD name a kind's resource. */
export const resourceName = (k: TrialKind) => [k.resource, apiGroup(k.apiVersion)].filter(Boolean).join('.');

/**
 * Which configured trial kinds the operator can serve. A kind other than Job is served once its
 * informers have listed; until then (its CRD is not installed, or not yet, or the operator may
 * not list it) only its own Studies wait, with a condition saying why, and the operator is ready
 * for the rest. The informers retry with backoff, so a CRD installed later is picked up.
 */
export class KindAvailability {
  private readonly warned = new Set<KindInformers>();
  private readonly failedOnce = new Map<KindInformers, () => void>();

  constructor(
    private readonly groups: KindInformers[],
    private readonly logger: Logger,
    private readonly hooks: KindAvailabilityHooks = {},
  ) {}

  /**
   * Starts every kind's informers. Resolves once each kind has listed or failed to list: a kind
   * that is there is then served from the first reconcile on (its Studies are not reported
   * waiting at every operator start), and one that is missing does not hold up the operator.
   */
  start(): Promise<void> {
    return Promise.all(
      this.groups.map((g) => {
        this.hooks.setAvailable?.(resourceName(g.kind), false);
        const synced = Promise.all(g.informers.map((i) => i.start())).then(
          () => {
            this.hooks.setAvailable?.(resourceName(g.kind), true);
            this.logger.info({ kind: typeName(g.kind) }, 'trial kind available: its Studies run');
            this.hooks.onAvailable?.(g.kind);
          },
          // Stopped before its first list: the operator is shutting down.
          () => undefined,
        );
        return Promise.race([synced, new Promise<void>((resolve) => this.failedOnce.set(g, resolve))]);
      }),
    ).then(() => undefined);
  }

  /** An informer failed: the first failure of a kind not yet served is worth one clear warning. */
  informerFailed(informer: { name: string }): void {
    const g = this.groups.find((x) => x.informers.some((i) => i.name === informer.name));
    if (!g || this.warned.has(g) || g.informers.every((i) => i.synced)) return;
    this.failedOnce.get(g)?.();
    this.warned.add(g);
    this.logger.warn(
      { kind: typeName(g.kind), reason: this.why(g) },
      'trial kind unavailable: its Studies wait for it, the operator serves the other kinds',
    );
  }

  /** Why Studies of `kind` cannot run now (for their Degraded condition), or undefined when they can. */
  unavailable(kind: TrialKind): string | undefined {
    const g = this.groups.find((x) => sameType(x.kind, kind));
    if (!g || g.informers.every((i) => i.synced)) return undefined;
    return `spec.trialTemplate: ${typeName(kind)} is unavailable: ${this.why(g)}; its trials start once it is available`;
  }

  private why(g: KindInformers): string {
    const failures = g.informers.filter((i) => !i.synced && i.failure !== undefined).map((i) => i.failure);
    const resource = resourceName(g.kind);
    if (failures.some((f) => statusCode(f) === 404))
      return `CRD not installed (the API has no ${resource} in ${g.kind.apiVersion})`;
    if (failures.length > 0) return `the operator cannot list ${resource}: ${errorMessage(failures[0])}`;
    return `the operator has not listed ${resource} yet`;
  }
}
