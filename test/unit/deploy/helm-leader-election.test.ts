// When the chart turns on leader election: by default exactly when more than one replica runs,
// forced on by leaderElection.enabled=true, and never off for several replicas.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chartDir, findObject, helm, renderChart } from '../../support/helm.js';

function electionOf(sets: string[]) {
  const objs = renderChart(sets);
  const dep = findObject(objs, 'Deployment') as unknown as {
    spec: { strategy?: { type: string }; template: { spec: { containers: { args: string[] }[] } } };
  };
  const args = dep.spec.template.spec.containers[0]?.args ?? [];
  return {
    flag: args.includes('--leader-elect'),
    lease: args.find((a) => a.startsWith('--lease-name=')),
    strategy: dep.spec.strategy?.type,
    leaseRole: objs.some((o) => o.kind === 'Role' && o.metadata.name === 'kt-kubetune-leader-election'),
  };
}

type Election = ReturnType<typeof electionOf>;
const on: Election = { flag: true, lease: '--lease-name=kt-kubetune', strategy: undefined, leaseRole: true };
const off: Election = { flag: false, lease: undefined, strategy: 'Recreate', leaseRole: false };

describe('helm chart: leader election', () => {
  const cases: [string[], Election][] = [
    [[], off],
    [['replicaCount=0'], off],
    [['replicaCount=2'], on],
    [['replicaCount=5'], on],
    [['leaderElection.enabled=true'], on],
    [['replicaCount=0', 'leaderElection.enabled=true'], on],
    [['replicaCount=4', 'leaderElection.enabled=true'], on],
    [['leaderElection.enabled=false'], off],
  ];
  for (const [sets, expected] of cases) {
    it(`${sets.join(' ') || 'defaults'}: ${expected.flag ? 'on' : 'off'}`, () => {
      assert.deepEqual(electionOf(sets), expected);
    });
  }

  it('refuses leaderElection.enabled=false with more than one replica, naming both values', () => {
    const res = helm([
      'template',
      'kt',
      chartDir,
      '--set',
      'replicaCount=3',
      '--set',
      'leaderElection.enabled=false',
    ]);
    assert.notEqual(res.code, 0, 'helm template should fail');
    assert.match(
      res.stderr,
      /leaderElection\.enabled=false with replicaCount=3: replicas without leader election would all start trials/,
    );
  });
});
