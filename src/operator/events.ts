import type { CoreV1Api, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { fitText } from './study/text-limits.js';

export interface EventRecorder {
  emit(object: KubernetesObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

/**
 * core/v1 Events for `kubectl describe`. Fire-and-forget: an Event that cannot be written must
 * never fail a reconcile.
 */
export function createEventRecorder(
  core: CoreV1Api,
  logger: Logger,
  component = 'kubetune-operator',
): EventRecorder {
  let seq = 0;
  return {
    emit(object, type, reason, message) {
      const meta = object.metadata ?? {};
      const now = new Date();
      const namespace = meta.namespace ?? 'default';
      core
        .createNamespacedEvent({
          namespace,
          body: {
            metadata: {
              name: `${meta.name}.${now.getTime().toString(16)}${(seq++ % 4096).toString(16)}`,
              namespace,
            },
            involvedObject: {
              apiVersion: object.apiVersion,
              kind: object.kind,
              name: meta.name,
              namespace,
              uid: meta.uid,
              resourceVersion: meta.resourceVersion,
            },
            type,
            reason,
            message: fitText(message, 1024),
            source: { component },
            reportingComponent: component,
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        })
        .catch((err: unknown) =>
          logger.debug({ err: (err as Error).message, reason }, 'could not record event'),
        );
    },
  };
}
