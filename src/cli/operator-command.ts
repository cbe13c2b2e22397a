import { parseArgs } from 'node:util';
import { DEFAULT_COMPUTE, runOperator } from '../operator/manager.js';
import { POD_POLICY_PROFILES, type PodPolicyProfile } from '../operator/policy/rules.js';
import { PrometheusAllowlist } from '../operator/runtime/prometheus-allowlist.js';
import { UserError } from './load-study.js';
import { parseTrialKind, type TrialKind } from '../api/workload-kinds.js';

const USAGE = `usage: kubetune operator [--kubeconfig PATH] [--namespaces a,b] [--metrics-port 8080]
                         [--workers 4] [--leader-elect] [--lease-namespace NS] [--lease-name NAME]
                         [--lease-duration-seconds 15] [--renew-deadline-seconds 10] [--retry-period-seconds 2]
                         [--max-concurrent-trials N] [--max-gpus 0] [--request-timeout-seconds 30]
                         [--max-event-loop-lag-seconds 5] [--log-level info]
                         [--trial-pod-policy baseline|privileged] [--trial-service-accounts default,...]
                         [--compute-workers 2] [--suggestion-budget-seconds 5] [--prune-budget-seconds 2]
                         [--prometheus-url-allowlist http://prometheus.monitoring:9090,...]
                         [--trial-kinds batch/v1/Job,jobset.x-k8s.io/v1alpha2/JobSet,example.com/v1/Widget=widgets]

Runs the operator: watches Studies and drives their Trials as Jobs. Uses in-cluster credentials
when run in a pod, otherwise --kubeconfig or $KUBECONFIG. A Study whose trial pod template breaks
the trial pod policy (default: Pod Security baseline, no nodeName, ServiceAccount "default" only;
"*" allows any ServiceAccount) fails with InvalidSpec; see docs/security.md.

--trial-kinds lists the kinds trials may be, as apiVersion/Kind[=resource] (default batch/v1/Job);
the operator watches them and needs RBAC to create, list, watch and delete them.
--request-timeout-seconds bounds every API call except watches and log streams.
--max-event-loop-lag-seconds fails /healthz while the event loop has stalled for longer than
this within the last 10 to 20 s.`;

function int(flag: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new UserError(`--${flag} must be a whole number >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

function seconds(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > 600)
    throw new UserError(`--${flag} must be a number of seconds in (0, 600], got ${JSON.stringify(raw)}`);
  return n;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export async function operatorCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      namespaces: { type: 'string', default: process.env['KUBETUNE_NAMESPACES'] ?? '' },
      'metrics-port': { type: 'string', default: '8080' },
      'metrics-host': { type: 'string', default: '0.0.0.0' },
      workers: { type: 'string', default: '4' },
      'leader-elect': { type: 'boolean', default: false },
      'lease-namespace': { type: 'string', default: process.env['POD_NAMESPACE'] ?? 'default' },
      'lease-name': { type: 'string', default: 'kubetune-operator' },
      'lease-duration-seconds': { type: 'string', default: '15' },
      'renew-deadline-seconds': { type: 'string', default: '10' },
      'retry-period-seconds': { type: 'string', default: '2' },
      'max-concurrent-trials': { type: 'string' },
      'max-gpus': { type: 'string', default: '0' },
      'request-timeout-seconds': { type: 'string', default: '30' },
      'max-event-loop-lag-seconds': { type: 'string', default: '5' },
      'log-level': { type: 'string', default: process.env['LOG_LEVEL'] ?? 'info' },
      'trial-pod-policy': { type: 'string', default: 'baseline' },
      'trial-service-accounts': { type: 'string', default: 'default' },
      'compute-workers': { type: 'string', default: String(DEFAULT_COMPUTE.workers) },
      'suggestion-budget-seconds': {
        type: 'string',
        default: String(DEFAULT_COMPUTE.suggestBudgetMs / 1000),
      },
      'prometheus-url-allowlist': {
        type: 'string',
        default: process.env['KUBETUNE_PROMETHEUS_URL_ALLOWLIST'] ?? '',
      },
      'prune-budget-seconds': { type: 'string', default: String(DEFAULT_COMPUTE.pruneBudgetMs / 1000) },
      'trial-kinds': { type: 'string', default: 'batch/v1/Job' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!LOG_LEVELS.includes(values['log-level']))
    throw new UserError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${values['log-level']}`);
  const profile = values['trial-pod-policy'];
  if (!(POD_POLICY_PROFILES as readonly string[]).includes(profile))
    throw new UserError(
      `--trial-pod-policy must be one of ${POD_POLICY_PROFILES.join(', ')}, got ${profile}`,
    );
  const allowedServiceAccounts = values['trial-service-accounts']
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const maxConcurrentTrials = int('max-concurrent-trials', values['max-concurrent-trials'], 1);
  const maxGPUs = int('max-gpus', values['max-gpus'], 0) as number;
  const prometheusUrlAllowlist = values['prometheus-url-allowlist']
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  try {
    PrometheusAllowlist.parse(prometheusUrlAllowlist);
  } catch (err) {
    throw new UserError(`--prometheus-url-allowlist: ${(err as Error).message}`);
  }
  let trialKinds: TrialKind[];
  try {
    trialKinds = values['trial-kinds']
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(parseTrialKind);
  } catch (err) {
    throw new UserError(`--trial-kinds: ${(err as Error).message}`);
  }
  if (trialKinds.length === 0)
    throw new UserError('--trial-kinds must name at least one kind, e.g. batch/v1/Job');
  const compute = {
    workers: int('compute-workers', values['compute-workers'], 1) as number,
    suggestBudgetMs: seconds('suggestion-budget-seconds', values['suggestion-budget-seconds']) * 1000,
    pruneBudgetMs: seconds('prune-budget-seconds', values['prune-budget-seconds']) * 1000,
  };
  const requestTimeoutMs =
    (int('request-timeout-seconds', values['request-timeout-seconds'], 1) as number) * 1000;
  const maxEventLoopLagSeconds = seconds('max-event-loop-lag-seconds', values['max-event-loop-lag-seconds']);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await runOperator(
    {
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
      namespaces: values.namespaces
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      prometheusUrlAllowlist,
      trialKinds,
      metricsPort: int('metrics-port', values['metrics-port'], 0) as number,
      metricsHost: values['metrics-host'],
      workers: int('workers', values.workers, 1) as number,
      compute,
      logLevel: values['log-level'],
      podPolicy: { profile: profile as PodPolicyProfile, allowedServiceAccounts },
      requestTimeoutMs,
      maxEventLoopLagSeconds,
      ...(values['leader-elect']
        ? {
            leaderElection: {
              namespace: values['lease-namespace'],
              name: values['lease-name'],
              leaseDurationMs:
                (int('lease-duration-seconds', values['lease-duration-seconds'], 1) as number) * 1000,
              renewDeadlineMs:
                (int('renew-deadline-seconds', values['renew-deadline-seconds'], 1) as number) * 1000,
              retryPeriodMs:
                (int('retry-period-seconds', values['retry-period-seconds'], 1) as number) * 1000,
            },
          }
        : {}),
      ...(maxConcurrentTrials !== undefined ? { maxConcurrentTrials } : {}),
      ...(maxGPUs > 0 ? { maxGPUs } : {}),
    },
    abort.signal,
  );
  return 0;
}
