// Trial pod templates that pass or break the trial pod policy, one rule at a time and in
// combination, shared by the unit tests that hold the operator's check and the admission
// policy's CEL to the same answers.

type Obj = Record<string, unknown>;

export interface PodCase {
  name: string;
  /** A pod template: { metadata?, spec }. */
  pod: Obj;
  /** Rule ids that refuse it under the default policy (baseline, ServiceAccount "default"). */
  refusedBy: string[];
  /** Text the admission message must contain under the default policy. */
  mentions?: string[];
}

const container = (extra: Obj = {}, name = 'train'): Obj => ({
  name,
  image: 'node:20',
  command: ['node', 'train.js'],
  ...extra,
});
const pod = (spec: Obj = {}, metadata?: Obj): Obj => ({
  ...(metadata ? { metadata } : {}),
  spec: { restartPolicy: 'Never', containers: [container()], ...spec },
});
const sc = (securityContext: Obj, name?: string) => container({ securityContext }, name);
const APPARMOR = 'container.apparmor.security.beta.kubernetes.io/train';

export function podTemplateCorpus(): PodCase[] {
  return [
    { name: 'plain', pod: pod(), refusedBy: [] },
    {
      name: 'hardened and within baseline',
      pod: pod(
        {
          hostNetwork: false,
          hostPID: false,
          nodeName: '',
          serviceAccountName: 'default',
          nodeSelector: { gpu: 'a100' },
          volumes: [{ name: 'scratch', emptyDir: {} }],
          securityContext: {
            runAsNonRoot: true,
            seccompProfile: { type: 'RuntimeDefault' },
            seLinuxOptions: { type: 'container_t', level: 's0:c1' },
            sysctls: [{ name: 'net.ipv4.tcp_syncookies', value: '1' }],
            appArmorProfile: { type: 'Localhost', localhostProfile: 'k8s-train' },
          },
          initContainers: [
            sc(
              { privileged: false, capabilities: { add: ['CHOWN', 'NET_BIND_SERVICE'], drop: ['ALL'] } },
              'fetch',
            ),
          ],
          containers: [
            container({
              ports: [{ containerPort: 8080 }, { containerPort: 9090, hostPort: 0 }],
              securityContext: {
                allowPrivilegeEscalation: false,
                procMount: 'Default',
                seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' },
                windowsOptions: { hostProcess: false },
              },
            }),
          ],
        },
        {
          annotations: {
            [APPARMOR]: 'runtime/default',
            'container.apparmor.security.beta.kubernetes.io/x': 'localhost/p',
            other: 'unconfined',
          },
        },
      ),
      refusedBy: [],
    },
    {
      name: 'hostNetwork',
      pod: pod({ hostNetwork: true }),
      refusedBy: ['host-namespaces'],
      mentions: ['spec.hostNetwork is true'],
    },
    {
      name: 'hostPID and hostIPC',
      pod: pod({ hostPID: true, hostIPC: true }),
      refusedBy: ['host-namespaces'],
      mentions: ['spec.hostPID', 'spec.hostIPC'],
    },
    {
      name: 'privileged container',
      pod: pod({ containers: [container(), sc({ privileged: true }, 'side')] }),
      refusedBy: ['privileged'],
      mentions: ['container "side"'],
    },
    {
      name: 'privileged init container',
      pod: pod({ initContainers: [sc({ privileged: true }, 'setup')] }),
      refusedBy: ['privileged'],
      mentions: ['container "setup"'],
    },
    {
      name: 'privileged ephemeral container',
      pod: pod({ ephemeralContainers: [sc({ privileged: true }, 'debug')] }),
      refusedBy: ['privileged'],
      mentions: ['container "debug"'],
    },
    {
      name: 'SYS_ADMIN',
      pod: pod({ containers: [sc({ capabilities: { add: ['CHOWN', 'SYS_ADMIN', 'NET_ADMIN'] } })] }),
      refusedBy: ['capabilities'],
      mentions: ['SYS_ADMIN, NET_ADMIN'],
    },
    {
      name: 'hostPath volume',
      pod: pod({
        volumes: [
          { name: 'scratch', emptyDir: {} },
          { name: 'root', hostPath: { path: '/' } },
        ],
      }),
      refusedBy: ['host-path'],
      mentions: ['volume "root"'],
    },
    {
      name: 'host port',
      pod: pod({ containers: [container({ ports: [{ containerPort: 80, hostPort: 8080 }] })] }),
      refusedBy: ['host-ports'],
      mentions: ['8080'],
    },
    {
      name: 'pod hostProcess',
      pod: pod({ securityContext: { windowsOptions: { hostProcess: true } } }),
      refusedBy: ['host-process'],
    },
    {
      name: 'container hostProcess',
      pod: pod({ containers: [sc({ windowsOptions: { hostProcess: true } })] }),
      refusedBy: ['host-process'],
      mentions: ['container "train"'],
    },
    {
      name: 'AppArmor Unconfined field',
      pod: pod({ containers: [sc({ appArmorProfile: { type: 'Unconfined' } })] }),
      refusedBy: ['apparmor'],
      mentions: ['"Unconfined"'],
    },
    {
      name: 'AppArmor Unconfined pod field',
      pod: pod({ securityContext: { appArmorProfile: { type: 'Unconfined' } } }),
      refusedBy: ['apparmor'],
    },
    {
      name: 'AppArmor unconfined annotation',
      pod: pod({}, { annotations: { [APPARMOR]: 'unconfined' } }),
      refusedBy: ['apparmor'],
      mentions: [APPARMOR],
    },
    {
      name: 'SELinux spc_t',
      pod: pod({ securityContext: { seLinuxOptions: { type: 'spc_t' } } }),
      refusedBy: ['selinux'],
      mentions: ['spc_t'],
    },
    {
      name: 'SELinux user and role',
      pod: pod({ containers: [sc({ seLinuxOptions: { user: 'system_u', role: 'system_r' } })] }),
      refusedBy: ['selinux'],
      mentions: ['system_u', 'system_r'],
    },
    {
      name: 'procMount Unmasked',
      pod: pod({ containers: [sc({ procMount: 'Unmasked' })] }),
      refusedBy: ['proc-mount'],
    },
    {
      name: 'seccomp Unconfined',
      pod: pod({ securityContext: { seccompProfile: { type: 'Unconfined' } } }),
      refusedBy: ['seccomp'],
    },
    {
      name: 'container seccomp Unconfined',
      pod: pod({ containers: [sc({ seccompProfile: { type: 'Unconfined' } })] }),
      refusedBy: ['seccomp'],
    },
    {
      name: 'unsafe sysctl',
      pod: pod({
        securityContext: {
          sysctls: [
            { name: 'kernel.shm_rmid_forced', value: '1' },
            { name: 'kernel.msgmax', value: '1' },
          ],
        },
      }),
      refusedBy: ['sysctls'],
      mentions: ['kernel.msgmax'],
    },
    {
      name: 'nodeName',
      pod: pod({ nodeName: 'gpu-node-1' }),
      refusedBy: ['node-name'],
      mentions: ['gpu-node-1'],
    },
    {
      name: 'another ServiceAccount',
      pod: pod({ serviceAccountName: 'builder' }),
      refusedBy: ['service-account'],
      mentions: ['"builder"'],
    },
    {
      name: 'deprecated serviceAccount field',
      pod: pod({ serviceAccount: 'builder' }),
      refusedBy: ['service-account'],
      mentions: ['"builder"'],
    },
    {
      name: 'everything at once',
      pod: pod({
        hostNetwork: true,
        nodeName: 'n1',
        serviceAccountName: 'admin',
        volumes: [{ name: 'docker', hostPath: { path: '/var/run/docker.sock' } }],
        containers: [sc({ privileged: true, capabilities: { add: ['ALL'] } })],
      }),
      refusedBy: [
        'host-namespaces',
        'node-name',
        'service-account',
        'host-path',
        'privileged',
        'capabilities',
      ],
    },
  ];
}

/** A Study object as the apiserver holds it, around a trial pod template. */
export function studyWithPod(template: Obj, name = 'demo', namespace = 'team-a') {
  return {
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Study',
    metadata: { name, namespace },
    spec: {
      parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
      objective: { metric: 'loss', goal: 'minimize' },
      maxTrials: 4,
      trialTemplate: { spec: { backoffLimit: 0, template } },
    },
  };
}
