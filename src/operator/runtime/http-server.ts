import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface OperatorServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  isReady(): boolean;
  isHealthy?(): boolean;
  logger: Logger;
}

/** /metrics for Prometheus, /healthz for liveness, /readyz for readiness (caches synced). */
export async function startOperatorServer(
  opts: OperatorServerOptions,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': opts.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else if (path === '/healthz') {
      const ok = opts.isHealthy?.() ?? true;
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok\n' : 'unhealthy\n');
    } else if (path === '/readyz') {
      const ok = opts.isReady();
      res
        .writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' })
        .end(ok ? 'ok\n' : 'informer caches not synced\n');
    } else {
      res
        .writeHead(404, { 'Content-Type': 'text/plain' })
        .end('not found: try /metrics, /healthz or /readyz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  server.on('error', (err) => opts.logger.error({ err: err.message }, 'metrics server error'));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
