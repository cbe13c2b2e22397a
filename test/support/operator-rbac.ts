// The operator's API usage, written once for the chart tests: the rendered Roles must grant
// exactly this (least privilege) and the integration test checks each entry with `kubectl auth
// can-i` against the real apiserver. Keep in step with src/operator and docs/installation.md.

export interface Permission {
  group: string;
  /** resource or resource/subresource */
  resource: string;
  verbs: string[];
}

export const WATCHED_NAMESPACE_PERMISSIONS: Permission[] = [
  { group: 'kubetune.io', resource: 'studies', verbs: ['get', 'list', 'watch'] },
  { group: 'kubetune.io', resource: 'studies/status', verbs: ['patch'] },
  { group: 'kubetune.io', resource: 'trials', verbs: ['get', 'list', 'watch', 'create'] },
  { group: 'kubetune.io', resource: 'trials/status', verbs: ['patch'] },
  { group: 'batch', resource: 'jobs', verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { group: '', resource: 'pods', verbs: ['get', 'list', 'watch'] },
  { group: '', resource: 'pods/log', verbs: ['get'] },
  { group: '', resource: 'events', verbs: ['create'] },
  { group: 'kueue.x-k8s.io', resource: 'workloads', verbs: ['list'] },
];

/** Only in the release namespace, and only when leader election is on. */
export const LEASE_PERMISSIONS: Permission[] = [
  { group: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'create', 'update'] },
];

/** Things the operator must not be able to do anywhere. */
export const FORBIDDEN: { verb: string; resource: string }[] = [
  { verb: 'get', resource: 'secrets' },
  { verb: 'list', resource: 'secrets' },
  { verb: 'update', resource: 'studies.kubetune.io' },
  { verb: 'delete', resource: 'studies.kubetune.io' },
  { verb: 'create', resource: 'pods' },
  { verb: 'delete', resource: 'pods' },
  { verb: 'create', resource: 'rolebindings.rbac.authorization.k8s.io' },
  { verb: 'get', resource: 'configmaps' },
];

/** "group resource verb" triples, for comparing rule sets regardless of how they are grouped. */
export function triples(perms: Permission[]): string[] {
  return perms.flatMap((p) => p.verbs.map((v) => `${p.group}|${p.resource}|${v}`)).sort();
}

/** The `kubectl auth can-i` resource argument: "jobs.batch", "pods", "leases.coordination.k8s.io". */
export function canIResource(p: Permission): { resource: string; subresource?: string } {
  const [res, sub] = p.resource.split('/') as [string, string | undefined];
  const resource = p.group ? `${res}.${p.group}` : res;
  return sub ? { resource, subresource: sub } : { resource };
}
