import {
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';

export interface KubeClients {
  kc: KubeConfig;
  custom: CustomObjectsApi;
  batch: BatchV1Api;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
}

/** In-cluster when running in a pod without KUBECONFIG; otherwise the given or default kubeconfig. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

export function makeClients(kc: KubeConfig): KubeClients {
  return {
    kc,
    custom: kc.makeApiClient(CustomObjectsApi),
    batch: kc.makeApiClient(BatchV1Api),
    core: kc.makeApiClient(CoreV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
  };
}

// Custom resources do not support strategic merge patch, and the generated clients default to
// JSON Patch; every patch kubetune sends is a merge patch.
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
