// Cluster access for the runtime integration tests: the shared helper plus a fault-injecting proxy.
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { createTestNamespace, type AfterHook, type Clients } from './cluster.js';

export { kubeconfigPath, loadKubeConfig, uniqueName } from './cluster.js';

export const testLogger = () => pino({ level: process.env.KUBETUNE_TEST_LOG ?? 'silent' });

/** Creates a uniquely named namespace, deleted after the test (the shared helper, given a CoreV1Api). */
export function testNamespace(t: AfterHook, core: CoreV1Api, prefix: string): Promise<string> {
  return createTestNamespace(t, { core } as Clients, prefix);
}

export async function until<T>(
  check: () => T | undefined | false,
  what: string,
  timeoutMs: number,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A TCP proxy in front of the apiserver (TLS passes through untouched) that can inject the
 * network faults informers and electors must survive: reset connections, refuse new ones, or
 * silently stop forwarding on open ones (a half-open connection).
 */
export class FaultProxy {
  refusing = false;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private server: Server | undefined;
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  static forKubeConfig(kc: KubeConfig): FaultProxy {
    const server = new URL(kc.getCurrentCluster()?.server ?? '');
    return new FaultProxy(server.hostname, Number(server.port || 443));
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      if (this.refusing) {
        client.resetAndDestroy();
        return;
      }
      const upstream = new (client.constructor as typeof Socket)();
      const pair = { client, upstream };
      this.pairs.add(pair);
      const drop = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      upstream.connect(this.targetPort, this.host, () => {
        client.pipe(upstream);
        upstream.pipe(client);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** A copy of `kc` whose current cluster is reached through this proxy. */
  kubeConfig(kc: KubeConfig): KubeConfig {
    const out = new KubeConfig();
    out.loadFromOptions({
      clusters: kc.clusters.map((c) =>
        c.name === kc.getCurrentCluster()?.name ? { ...c, server: `https://127.0.0.1:${this.port}` } : c,
      ),
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
    return out;
  }

  /** Resets every open connection (as an apiserver restart or a NAT flush would). */
  resetAll(): void {
    for (const { client, upstream } of [...this.pairs]) {
      client.resetAndDestroy();
      upstream.destroy();
    }
  }

  /** Stops forwarding on every open connection but keeps it open: the peer hears nothing, ever. */
  blackholeOpen(): void {
    for (const pair of [...this.pairs]) {
      this.pairs.delete(pair);
      pair.client.unpipe(pair.upstream);
      pair.upstream.unpipe(pair.client);
      pair.client.pause();
      pair.upstream.pause();
      this.blackholed.push(pair);
    }
  }

  private readonly blackholed: { client: Socket; upstream: Socket }[] = [];

  async close(): Promise<void> {
    for (const { client, upstream } of [...this.pairs, ...this.blackholed]) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise((r) => this.server?.close(r) ?? r(undefined));
  }
}

export function coreApi(kc: KubeConfig): CoreV1Api {
  return kc.makeApiClient(CoreV1Api);
}
