// The Helm chart, rendered by a real helm: lint, the three value shapes the docs describe
// (cluster-wide, namespaced, multi-replica), least-privilege RBAC and schema failures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { K8sObject } from '../../support/helm.js';
import { chartDir, findObject, helm, renderChart } from '../../support/helm.js';
import type { Permission } from '../../support/operator-rbac.js';
import { LEASE_PERMISSIONS, triples, WATCHED_NAMESPACE_PERMISSIONS } from '../../support/operator-rbac.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface Container {
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  ports: { name: string; containerPort: number }[];
  resources: Record<string, unknown>;
}

function rulesOf(obj: K8sObject): Rule[] {
  return obj['rules'] as Rule[];
}

function ruleTriples(rules: Rule[]): string[] {
  const perms: Permission[] = rules.flatMap((r) =>
    r.apiGroups.flatMap((group) => r.resources.map((resource) => ({ group, resource, verbs: r.verbs }))),
  );
  return triples(perms);
}

function operatorContainer(objs: K8sObject[]): Container {
  const dep = findObject(objs, 'Deployment') as unknown as {
    spec: { template: { spec: { containers: Container[] } } };
  };
  const c = dep.spec.template.spec.containers[0];
  assert.ok(c, 'the Deployment has a container');
  return c;
}

const kinds = (objs: K8sObject[]) =>
  objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);

describe('helm chart deploy/helm/kubetune', () => {
  it('passes helm lint --strict', () => {
    const res = helm(['lint', '--strict', chartDir]);
    assert.equal(res.code, 0, `helm lint failed:\n${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('passes helm lint --strict with namespaced and multi-replica values', () => {
    for (const sets of [['watchNamespaces={a,b}'], ['replicaCount=3', 'serviceMonitor.enabled=true']]) {
      const args = ['lint', '--strict', chartDir, ...sets.flatMap((s) => ['--set', s])];
      const res = helm(args);
      assert.equal(res.code, 0, `helm ${args.join(' ')} failed:\n${res.stdout}\n${res.stderr}`);
    }
  });

  describe('default values (cluster-wide, one replica)', () => {
    const objs = renderChart();

    it('renders the ServiceAccount, cluster RBAC, Service, Deployment and Study admission policy', () => {
      assert.deepEqual(kinds(objs).sort(), [
        'ClusterRole//kt-kubetune',
        'ClusterRoleBinding//kt-kubetune',
        'Deployment/kubetune-system/kt-kubetune',
        'Service/kubetune-system/kt-kubetune-metrics',
        'ServiceAccount/kubetune-system/kt-kubetune',
        'ValidatingAdmissionPolicy//kt-kubetune-studies',
        'ValidatingAdmissionPolicyBinding//kt-kubetune-studies',
      ]);
    });

    it('grants exactly what the operator uses, and no Secrets', () => {
      const rules = rulesOf(findObject(objs, 'ClusterRole'));
      assert.deepEqual(ruleTriples(rules), triples(WATCHED_NAMESPACE_PERMISSIONS));
      for (const r of rules) {
        assert.ok(!r.resources.includes('secrets'), 'no rule names secrets');
        assert.ok(!r.resources.includes('*') && !r.verbs.includes('*'), 'no wildcards');
      }
      const binding = findObject(objs, 'ClusterRoleBinding');
      assert.deepEqual(binding['subjects'], [
        { kind: 'ServiceAccount', name: 'kt-kubetune', namespace: 'kubetune-system' },
      ]);
    });

    it('runs the operator hardened: non-root, read-only root, no capabilities, RuntimeDefault seccomp', () => {
      const dep = findObject(objs, 'Deployment') as unknown as {
        spec: {
          replicas: number;
          strategy: { type: string };
          template: { spec: { securityContext: Record<string, unknown>; serviceAccountName: string } };
        };
      };
      assert.equal(dep.spec.replicas, 1);
      assert.equal(dep.spec.strategy.type, 'Recreate', 'two unelected operators must never overlap');
      assert.equal(dep.spec.template.spec.serviceAccountName, 'kt-kubetune');
      assert.equal(dep.spec.template.spec.securityContext['runAsNonRoot'], true);
      assert.deepEqual(dep.spec.template.spec.securityContext['seccompProfile'], { type: 'RuntimeDefault' });
      const c = operatorContainer(objs);
      assert.equal(c.securityContext['allowPrivilegeEscalation'], false);
      assert.equal(c.securityContext['readOnlyRootFilesystem'], true);
      assert.equal(c.securityContext['runAsNonRoot'], true);
      assert.deepEqual(c.securityContext['capabilities'], { drop: ['ALL'] });
      assert.ok(c.resources['requests'] && c.resources['limits'], 'resources are set');
    });

    it('probes /healthz and /readyz on the metrics port and passes the downward-API namespace', () => {
      const c = operatorContainer(objs);
      assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'metrics' });
      assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'metrics' });
      assert.deepEqual(c.ports, [{ name: 'metrics', containerPort: 8080, protocol: 'TCP' }]);
      const env = Object.fromEntries(c.env.map((e) => [e.name, e]));
      assert.equal(env['POD_NAMESPACE']?.valueFrom?.fieldRef?.fieldPath, 'metadata.namespace');
      assert.equal(env['KUBETUNE_DEFAULT_TRAINER_IMAGE']?.value, 'ghcr.io/kubetune/trainer:0.1.0');
      assert.equal(env['NODE_OPTIONS']?.value, '--max-semi-space-size=4');
    });

    it('builds args without leader election or namespaces', () => {
      assert.deepEqual(operatorContainer(objs).args, [
        '--metrics-port=8080',
        '--metrics-host=0.0.0.0',
        '--workers=4',
        '--log-level=info',
        '--compute-workers=2',
        '--suggestion-budget-seconds=5',
        '--prune-budget-seconds=2',
        '--trial-kinds=batch/v1/Job=jobs',
        '--trial-pod-policy=baseline',
        '--trial-service-accounts=default',
      ]);
    });
  });

  describe('trialKinds', () => {
    const objs = renderChart([
      'trialKinds[0].apiVersion=jobset.x-k8s.io/v1alpha2',
      'trialKinds[0].kind=JobSet',
      'trialKinds[1].apiVersion=example.com/v1',
      'trialKinds[1].kind=Gadget',
      'trialKinds[1].resource=gadgetries',
    ]);

    it('grants exactly the configured kinds (and no longer Jobs), and passes them to the operator', () => {
      const workloadRules = ruleTriples(rulesOf(findObject(objs, 'ClusterRole'))).filter((t) =>
        /jobs|jobsets|gadgetries/.test(t),
      );
      assert.deepEqual(
        workloadRules,
        triples([
          {
            group: 'jobset.x-k8s.io',
            resource: 'jobsets',
            verbs: ['get', 'list', 'watch', 'create', 'delete'],
          },
          {
            group: 'example.com',
            resource: 'gadgetries',
            verbs: ['get', 'list', 'watch', 'create', 'delete'],
          },
        ]),
      );
      assert.ok(
        operatorContainer(objs).args.includes(
          '--trial-kinds=jobset.x-k8s.io/v1alpha2/JobSet=jobsets,example.com/v1/Gadget=gadgetries',
        ),
      );
    });

    it('refuses a kind that is not a Kind name', () => {
      const res = helm([
        'template',
        'kt',
        chartDir,
        '--set',
        'trialKinds[0].apiVersion=v1',
        '--set',
        'trialKinds[0].kind=pod',
      ]);
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /trialKinds/);
    });
  });

  describe('prometheus.urlAllowlist and compute', () => {
    const objs = renderChart([
      'prometheus.urlAllowlist={http://prometheus.monitoring:9090,https://thanos.monitoring/api}',
      'compute.workers=3',
      'compute.suggestionBudgetSeconds=3',
    ]);

    it('passes the allowlist as one flag and the compute settings', () => {
      const args = operatorContainer(objs).args;
      assert.ok(
        args.includes(
          '--prometheus-url-allowlist=http://prometheus.monitoring:9090,https://thanos.monitoring/api',
        ),
      );
      assert.ok(args.includes('--compute-workers=3'));
      assert.ok(args.includes('--suggestion-budget-seconds=3'));
    });

    it('rejects an allowlist entry that is not a plain http(s) URL', () => {
      for (const entry of ['prometheus:9090', 'http://user@prometheus:9090']) {
        const res = helm(['template', 'kt', chartDir, '--set', `prometheus.urlAllowlist={${entry}}`]);
        assert.notEqual(res.code, 0, entry);
        assert.match(res.stderr, /prometheus\/urlAllowlist\/0/);
      }
    });
  });

  describe('watchNamespaces: [a, b]', () => {
    const objs = renderChart(['watchNamespaces={a,b}', 'maxConcurrentTrials=8', 'logLevel=debug']);

    it('grants the operator rules in each watched namespace only, nothing cluster-wide', () => {
      assert.ok(!objs.some((o) => o.kind.startsWith('Cluster')), 'no ClusterRole or ClusterRoleBinding');
      for (const ns of ['a', 'b']) {
        const role = findObject(objs, 'Role', 'kt-kubetune', ns);
        assert.deepEqual(ruleTriples(rulesOf(role)), triples(WATCHED_NAMESPACE_PERMISSIONS));
        const binding = findObject(objs, 'RoleBinding', 'kt-kubetune', ns);
        assert.deepEqual(binding['roleRef'], {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'Role',
          name: 'kt-kubetune',
        });
        assert.deepEqual(binding['subjects'], [
          { kind: 'ServiceAccount', name: 'kt-kubetune', namespace: 'kubetune-system' },
        ]);
      }
      assert.equal(objs.filter((o) => o.kind === 'Role').length, 2, 'no lease Role without leader election');
    });

    it('passes --namespaces, --max-concurrent-trials and --log-level', () => {
      const args = operatorContainer(objs).args;
      assert.ok(args.includes('--namespaces=a,b'));
      assert.ok(args.includes('--max-concurrent-trials=8'));
      assert.ok(args.includes('--log-level=debug'));
      assert.ok(!args.includes('--leader-elect'));
    });
  });

  describe('replicaCount: 3', () => {
    const objs = renderChart(['replicaCount=3']);

    it('turns on leader election with a lease named after the release', () => {
      const args = operatorContainer(objs).args;
      assert.ok(args.includes('--leader-elect'));
      assert.ok(args.includes('--lease-name=kt-kubetune'));
      const dep = findObject(objs, 'Deployment') as unknown as {
        spec: { replicas: number; strategy?: unknown };
      };
      assert.equal(dep.spec.replicas, 3);
      assert.equal(dep.spec.strategy, undefined, 'rolling updates are safe behind a lease');
    });

    it('grants Lease access only in the release namespace, get/update only on its own lease', () => {
      const role = findObject(objs, 'Role', 'kt-kubetune-leader-election', 'kubetune-system');
      const rules = rulesOf(role);
      assert.deepEqual(ruleTriples(rules), triples(LEASE_PERMISSIONS));
      for (const r of rules) {
        if (r.verbs.includes('get') || r.verbs.includes('update'))
          assert.deepEqual(r.resourceNames, ['kt-kubetune']);
      }
      findObject(objs, 'RoleBinding', 'kt-kubetune-leader-election', 'kubetune-system');
    });
  });

  it('leaderElection.enabled turns on leader election with one replica', () => {
    const objs = renderChart(['leaderElection.enabled=true', 'leaderElection.leaseName=my-lease']);
    const args = operatorContainer(objs).args;
    assert.ok(args.includes('--leader-elect') && args.includes('--lease-name=my-lease'));
  });

  it('renders a ServiceMonitor for the metrics Service when enabled', () => {
    const objs = renderChart(['serviceMonitor.enabled=true', 'serviceMonitor.labels.release=prom']);
    const sm = findObject(objs, 'ServiceMonitor') as unknown as {
      metadata: { labels: Record<string, string> };
      spec: {
        endpoints: { port: string; path: string }[];
        selector: { matchLabels: Record<string, string> };
      };
    };
    assert.equal(sm.metadata.labels['release'], 'prom');
    assert.deepEqual(
      sm.spec.endpoints.map((e) => [e.port, e.path]),
      [['metrics', '/metrics']],
    );
    const svc = findObject(objs, 'Service') as unknown as { metadata: { labels: Record<string, string> } };
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels))
      assert.equal(svc.metadata.labels[k], v);
  });

  it('ships the CRDs in crds/ (rendered with --include-crds)', () => {
    const names = renderChart([], { includeCrds: true })
      .filter((o) => o.kind === 'CustomResourceDefinition')
      .map((o) => o.metadata.name)
      .sort();
    assert.deepEqual(names, ['studies.kubetune.io', 'trials.kubetune.io']);
  });

  describe('values.schema.json rejects bad values with the field named', () => {
    const cases: [string, RegExp][] = [
      ['replicaCount=-1', /replicaCount.*minimum/],
      ['logLevel=loud', /logLevel.*must be one of/],
      ['maxConcurrentTrials=-2', /maxConcurrentTrials.*minimum/],
      ['metrics.port=70000', /metrics\/port.*maximum/],
      ['watchNamespaces={Bad_NS}', /watchNamespaces/],
      ['replicasCount=2', /additional properties 'replicasCount' not allowed/],
    ];
    for (const [set, message] of cases) {
      it(`--set ${set}`, () => {
        const res = helm(['template', 'kt', chartDir, '--set', set]);
        assert.notEqual(res.code, 0, `helm template --set ${set} should fail`);
        assert.match(res.stderr, /values don't meet the specifications of the schema/);
        assert.match(res.stderr, message);
      });
    }
  });
});
