// Metric output: kubetune's `key=value` lines on stdout (the only thing written to stdout) and
// an optional Prometheus endpoint with the same values.
import { createServer, type Server } from 'node:http';
import { Gauge, Registry } from 'prom-client';

export interface EpochMetrics {
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
  lr: number;
  epoch_seconds: number;
}

/** Compact but lossless enough for comparing trials; NaN and Infinity print as such. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(6)));
}

export function formatMetricLine(m: EpochMetrics): string {
  return (Object.keys(m) as (keyof EpochMetrics)[]).map((k) => `${k}=${formatNumber(m[k])}`).join(' ');
}

/** A diverged epoch: its losses are NaN or infinite (what --fail-on-nan stops on). */
export function isDiverged(m: EpochMetrics): boolean {
  return !(Number.isFinite(m.loss) && Number.isFinite(m.val_loss));
}

const GAUGES = {
  epoch: 'Last completed training epoch',
  loss: 'Training loss of the last epoch',
  accuracy: 'Training accuracy of the last epoch',
  val_loss: 'Validation loss after the last epoch',
  val_accuracy: 'Validation accuracy after the last epoch',
  lr: 'Learning rate used in the last epoch',
  epoch_seconds: 'Wall-clock seconds of the last epoch',
} as const satisfies Record<keyof EpochMetrics, string>;

export class PrometheusExporter {
  private readonly registry = new Registry();
  private readonly gauges: Record<keyof EpochMetrics, Gauge>;
  private readonly labels: { study: string; trial: string };
  private server: Server | undefined;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.labels = { study: env.KUBETUNE_STUDY ?? '', trial: env.KUBETUNE_TRIAL ?? '' };
    const gauges = {} as Record<keyof EpochMetrics, Gauge>;
    for (const [key, help] of Object.entries(GAUGES) as [keyof EpochMetrics, string][]) {
      gauges[key] = new Gauge({
        name: `kubetune_trainer_${key}`,
        help,
        labelNames: ['study', 'trial'],
        registers: [this.registry],
      });
    }
    this.gauges = gauges;
  }

  update(m: EpochMetrics): void {
    for (const key of Object.keys(this.gauges) as (keyof EpochMetrics)[]) {
      this.gauges[key].set(this.labels, m[key]);
    }
  }

  /** Resolves with the bound port (useful with port 0). */
  async listen(port: number, host: string): Promise<number> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics' && req.url !== '/') {
        res.writeHead(404).end('not found; metrics are at /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    return typeof addr === 'object' && addr !== null ? addr.port : port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
