// The operator's own HTTP endpoints: Prometheus scrape target and the kubelet's probes. Kept
// off the reconcile path: a slow /metrics collection must not delay probes, so probes never
// touch the registry.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface OperatorServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  /** Readiness; return false (or a string: the reason) while not ready. */
  isReady: () => Verdict | Promise<Verdict>;
  /** Liveness; a failing probe gets the pod restarted, so be conservative. Default: always. */
  isHealthy?: () => Verdict | Promise<Verdict>;
  logger: Logger;
}

type Verdict = boolean | string;

export interface OperatorServer {
  port: number;
  close(): Promise<void>;
}

export function startOperatorServer(opts: OperatorServerOptions): Promise<OperatorServer> {
  const log = opts.logger.child({ component: 'http' });
  const probe = async (check: () => Verdict | Promise<Verdict>, what: string): Promise<[number, string]> => {
    let verdict: Verdict;
    try {
      verdict = await check();
    } catch (err) {
      verdict = `${what} check threw: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (verdict === true) return [200, 'ok\n'];
    return [503, `not ${what}${typeof verdict === 'string' && verdict ? `: ${verdict}` : ''}\n`];
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    const text = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'method not allowed\n');
    switch (path) {
      case '/metrics':
        opts.registry.metrics().then(
          (body) => {
            res.writeHead(200, { 'content-type': opts.registry.contentType });
            res.end(req.method === 'HEAD' ? undefined : body);
          },
          (err: unknown) => {
            log.error({ err }, 'collecting metrics failed');
            text(500, 'collecting metrics failed\n');
          },
        );
        return;
      case '/healthz':
        void probe(opts.isHealthy ?? (() => true), 'healthy').then((r) => text(...r));
        return;
      case '/readyz':
        void probe(opts.isReady, 'ready').then((r) => text(...r));
        return;
      default:
        return text(404, 'not found\n');
    }
  });
  // Bounded so a stuck scraper cannot pin sockets forever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      server.on('error', (err) => log.error({ err }, 'http server error'));
      const { port } = server.address() as AddressInfo;
      log.info({ port, host: opts.host ?? '0.0.0.0' }, 'serving /metrics, /healthz, /readyz');
      resolve({
        port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            // Keep-alive connections from scrapers would otherwise hold close() open.
            server.closeAllConnections();
          }),
      });
    });
  });
}
