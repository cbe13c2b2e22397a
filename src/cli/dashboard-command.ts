import { parseArgs } from 'node:util';
import { loadKubeConfig, makeClients } from '../operator/kube/clients.js';
import { clusterSource } from '../report/cluster-source.js';
import { localSource } from '../report/local-source.js';
import { serveDashboard } from '../report/server.js';
import type { StudySource } from '../report/source.js';
import { UserError } from './load-study.js';

const USAGE = `usage: kubetune dashboard [--port P] [DIR | [-n NAMESPACE] [--kubeconfig PATH]]

Serves the study report on http://127.0.0.1:P/ (loopback only). With DIR, the local runs under it
(a results directory or kubetune-results/); otherwise the namespace's Studies, read with your
kubeconfig and updated live.`;

function source(values: { namespace?: string; kubeconfig?: string }, dir: string | undefined): StudySource {
  if (dir !== undefined) {
    if (values.namespace || values.kubeconfig)
      throw new UserError(
        `give a results directory or a cluster (--namespace/--kubeconfig), not both\n\n${USAGE}`,
      );
    try {
      return localSource(dir);
    } catch (err) {
      throw new UserError((err as Error).message);
    }
  }
  const kc = loadKubeConfig(values.kubeconfig);
  const namespace = values.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  return clusterSource(makeClients(kc), namespace);
}

export async function dashboardCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string', short: 'p', default: '8777' },
      namespace: { type: 'string', short: 'n' },
      kubeconfig: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UserError(USAGE);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UserError(`--port must be a whole number from 0 to 65535, got ${JSON.stringify(values.port)}`);
  const dashboard = await serveDashboard(source(values, positionals[0]), port);
  console.log(`dashboard: ${dashboard.url} (Ctrl-C stops it)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await dashboard.close();
  return 0;
}
