/**
 * What a Study's trial pods may ask for. A Study's author is often not trusted with Jobs, yet the
 * operator creates the trial Jobs with its own rights, so the pod template is held to a policy:
 * Pod Security "baseline" (plus no `nodeName`) and an allowlist of ServiceAccounts.
 *
 * Each rule is data (a list of probes), not code: the operator evaluates the probes here, and
 * ./admission-cel.ts compiles the same probes to the CEL of the chart's ValidatingAdmissionPolicy,
 * so the two enforcement points cannot drift apart.
 */

export const POD_POLICY_PROFILES = ['baseline', 'privileged'] as const;
export type PodPolicyProfile = (typeof POD_POLICY_PROFILES)[number];

export interface PodPolicySettings {
  /** `baseline`: Pod Security baseline and no nodeName. `privileged`: no pod restrictions. */
  profile: PodPolicyProfile;
  /** ServiceAccounts trial pods may run as; `*` allows any. */
  allowedServiceAccounts: readonly string[];
}

export const DEFAULT_POD_POLICY: PodPolicySettings = {
  profile: 'baseline',
  allowedServiceAccounts: ['default'],
};

/** Capabilities Pod Security baseline lets a container add. */
export const BASELINE_CAPABILITIES = [
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
];

/** Namespaced sysctls Pod Security baseline allows (as of Kubernetes 1.32). */
export const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ping_group_range',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_wmem',
];

const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];
export const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

/** What a probe refuses in the field it looks at. */
export type Refusal =
  | { kind: 'true' }
  | { kind: 'set' }
  | { kind: 'nonEmpty' }
  | { kind: 'nonZero' }
  | { kind: 'oneOf'; values: string[] }
  | { kind: 'notAllowed'; values: string[]; prefixes?: string[] }
  | { kind: 'itemsNotAllowed'; values: string[]; key?: string };

/**
 * Where a probe looks: the pod spec, every container (init and ephemeral ones included), every
 * volume, every container port, or the pod's annotations whose key starts with `prefix`.
 */
export type Scope = 'pod' | 'container' | 'volume' | 'port' | { annotationPrefix: string };

export interface Probe {
  scope: Scope;
  /** Dotted path below the scope's object; ignored for annotations. */
  field: string;
  refuse: Refusal;
}

export interface PodRule {
  id: string;
  /** Why the rule exists; ends every refusal message. */
  reason: string;
  probes: Probe[];
}

const sc = (field: string) => `securityContext.${field}`;
const bothLevels = (field: string, refuse: Refusal): Probe[] => [
  { scope: 'pod', field: sc(field), refuse },
  { scope: 'container', field: sc(field), refuse },
];

/** Pod Security "baseline" (kubernetes.io/docs/concepts/security/pod-security-standards) and nodeName. */
export const BASELINE_RULES: PodRule[] = [
  {
    id: 'host-namespaces',
    reason: "sharing the node's network, PID or IPC namespace is not allowed (Pod Security baseline)",
    probes: ['hostNetwork', 'hostPID', 'hostIPC'].map((field) => ({
      scope: 'pod',
      field,
      refuse: { kind: 'true' },
    })),
  },
  {
    id: 'privileged',
    reason: 'privileged containers are not allowed (Pod Security baseline)',
    probes: [{ scope: 'container', field: sc('privileged'), refuse: { kind: 'true' } }],
  },
  {
    id: 'capabilities',
    reason: `containers may add only these capabilities: ${BASELINE_CAPABILITIES.join(', ')} (Pod Security baseline)`,
    probes: [
      {
        scope: 'container',
        field: sc('capabilities.add'),
        refuse: { kind: 'itemsNotAllowed', values: BASELINE_CAPABILITIES },
      },
    ],
  },
  {
    id: 'host-path',
    reason: 'hostPath volumes are not allowed (Pod Security baseline)',
    probes: [{ scope: 'volume', field: 'hostPath', refuse: { kind: 'set' } }],
  },
  {
    id: 'host-ports',
    reason: 'host ports are not allowed (Pod Security baseline)',
    probes: [{ scope: 'port', field: 'hostPort', refuse: { kind: 'nonZero' } }],
  },
  {
    id: 'host-process',
    reason: 'Windows HostProcess pods are not allowed (Pod Security baseline)',
    probes: bothLevels('windowsOptions.hostProcess', { kind: 'true' }),
  },
  {
    id: 'apparmor',
    reason:
      'AppArmor may not be turned off: use RuntimeDefault or a Localhost profile (Pod Security baseline)',
    probes: [
      ...bothLevels('appArmorProfile.type', { kind: 'oneOf', values: ['Unconfined'] }),
      {
        scope: { annotationPrefix: APPARMOR_ANNOTATION_PREFIX },
        field: '',
        refuse: { kind: 'notAllowed', values: ['', 'runtime/default'], prefixes: ['localhost/'] },
      },
    ],
  },
  {
    id: 'selinux',
    reason: `SELinux type must be one of ${SELINUX_TYPES.filter(Boolean).join(', ')}, and user and role may not be set (Pod Security baseline)`,
    probes: [
      ...bothLevels('seLinuxOptions.type', { kind: 'notAllowed', values: SELINUX_TYPES }),
      ...bothLevels('seLinuxOptions.user', { kind: 'nonEmpty' }),
      ...bothLevels('seLinuxOptions.role', { kind: 'nonEmpty' }),
    ],
  },
  {
    id: 'proc-mount',
    reason: 'procMount must be Default (Pod Security baseline)',
    probes: [
      { scope: 'container', field: sc('procMount'), refuse: { kind: 'notAllowed', values: ['Default'] } },
    ],
  },
  {
    id: 'seccomp',
    reason: 'seccomp may not be Unconfined (Pod Security baseline)',
    probes: bothLevels('seccompProfile.type', { kind: 'oneOf', values: ['Unconfined'] }),
  },
  {
    id: 'sysctls',
    reason: `only these sysctls are allowed: ${SAFE_SYSCTLS.join(', ')} (Pod Security baseline)`,
    probes: [
      {
        scope: 'pod',
        field: sc('sysctls'),
        refuse: { kind: 'itemsNotAllowed', values: SAFE_SYSCTLS, key: 'name' },
      },
    ],
  },
  {
    id: 'node-name',
    reason: 'nodeName bypasses the scheduler and its checks (use nodeSelector or affinity)',
    probes: [{ scope: 'pod', field: 'nodeName', refuse: { kind: 'nonEmpty' } }],
  },
];

/** Pod spec fields naming the ServiceAccount (serviceAccount is the deprecated alias). */
export const SERVICE_ACCOUNT_FIELDS = ['serviceAccountName', 'serviceAccount'] as const;

export const SERVICE_ACCOUNT_REASON =
  "trial pods run with their ServiceAccount's rights; only the allowed ServiceAccounts may be used";
