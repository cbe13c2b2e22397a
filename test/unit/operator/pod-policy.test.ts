// The operator's own trial pod policy check (for clusters without the admission policy): the
// field path and the reason it reports, which end a Study as InvalidSpec.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TrialTemplate } from '../../../src/api/trial-template.js';
import { podPolicyRefusal, podPolicyViolations } from '../../../src/operator/policy/check.js';
import { studyWithPod } from '../../support/pod-templates.js';

const template = (spec: Record<string, unknown>, metadata?: Record<string, unknown>) =>
  studyWithPod({
    ...(metadata ? { metadata } : {}),
    spec: { containers: [{ name: 'train', image: 'node:20' }], ...spec },
  }).spec.trialTemplate as unknown as TrialTemplate;

const P = 'spec.trialTemplate.spec.template';

describe('trial pod policy (operator side)', () => {
  it('passes a plain template', () => {
    assert.equal(podPolicyRefusal(template({})), undefined);
  });

  it('names the exact field of the offending container, init containers included', () => {
    const t = template({
      containers: [{ name: 'a' }, { name: 'b', securityContext: { privileged: true } }],
      initContainers: [{ name: 'c', securityContext: { capabilities: { add: ['CHOWN', 'SYS_ADMIN'] } } }],
    });
    assert.deepEqual(podPolicyViolations(t), [
      {
        rule: 'privileged',
        path: `${P}.spec.containers[1].securityContext.privileged`,
        message: `${P}.spec.containers[1].securityContext.privileged is true: privileged containers are not allowed (Pod Security baseline)`,
      },
      {
        rule: 'capabilities',
        path: `${P}.spec.initContainers[0].securityContext.capabilities.add`,
        message: `${P}.spec.initContainers[0].securityContext.capabilities.add has SYS_ADMIN: containers may add only these capabilities: AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT (Pod Security baseline)`,
      },
    ]);
  });

  it('reports volumes, ports, annotations and pod fields by path', () => {
    const paths = podPolicyViolations(
      template(
        {
          hostPID: true,
          nodeName: 'n1',
          volumes: [
            { name: 'ok', emptyDir: {} },
            { name: 'root', hostPath: { path: '/' } },
          ],
          containers: [{ name: 'train', ports: [{ containerPort: 1 }, { containerPort: 2, hostPort: 2 }] }],
        },
        { annotations: { 'container.apparmor.security.beta.kubernetes.io/train': 'unconfined' } },
      ),
    ).map((v) => v.path);
    assert.deepEqual(paths, [
      `${P}.spec.hostPID`,
      `${P}.spec.volumes[1].hostPath`,
      `${P}.spec.containers[0].ports[1].hostPort`,
      `${P}.metadata.annotations["container.apparmor.security.beta.kubernetes.io/train"]`,
      `${P}.spec.nodeName`,
    ]);
  });

  it('allows only the listed ServiceAccounts; an unnamed one is "default"', () => {
    const builder = template({ serviceAccountName: 'builder' });
    assert.equal(
      podPolicyRefusal(builder),
      `${P}.spec.serviceAccountName is "builder": trial pods run with their ServiceAccount's rights; only the allowed ServiceAccounts may be used (allowed: default)`,
    );
    const only = { profile: 'baseline', allowedServiceAccounts: ['builder'] } as const;
    assert.equal(podPolicyRefusal(builder, { ...only, allowedServiceAccounts: ['builder'] }), undefined);
    assert.match(
      podPolicyRefusal(template({}), { ...only, allowedServiceAccounts: ['builder'] }) ?? '',
      /serviceAccountName is unset, so the pod runs as "default": .*\(allowed: builder\)$/,
    );
    assert.equal(
      podPolicyRefusal(builder, { profile: 'baseline', allowedServiceAccounts: ['*'] }),
      undefined,
    );
  });

  it('profile privileged lifts the pod rules but keeps the ServiceAccount allowlist', () => {
    const settings = { profile: 'privileged', allowedServiceAccounts: ['default'] } as const;
    assert.equal(podPolicyRefusal(template({ hostNetwork: true, nodeName: 'n1' }), settings), undefined);
    assert.deepEqual(
      podPolicyViolations(template({ hostNetwork: true, serviceAccount: 'root' }), settings).map(
        (v) => v.rule,
      ),
      ['service-account'],
    );
  });

  it('joins every violation into one InvalidSpec message', () => {
    const message = podPolicyRefusal(template({ hostNetwork: true, nodeName: 'n1' })) ?? '';
    assert.deepEqual(
      message.split('; ').map((m) => m.split(' ')[0]),
      [`${P}.spec.hostNetwork`, `${P}.spec.nodeName`],
    );
  });

  it('spells out at most five violations, so a huge template cannot bloat the Study status', () => {
    const volumes = Array.from({ length: 5000 }, (_, i) => ({ name: `v${i}`, hostPath: { path: '/' } }));
    const message = podPolicyRefusal(template({ volumes })) ?? '';
    assert.equal(message.split('; ').length, 6);
    assert.match(message, /spec\.volumes\[4\]\.hostPath is set: .*; and 4995 more$/);
    assert.ok(message.length < 1000, `${message.length} characters`);
  });
});
