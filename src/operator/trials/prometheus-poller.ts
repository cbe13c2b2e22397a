import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { PrometheusSpec } from '../../api/metrics-spec.js';
import type { MetricLine } from '../../metrics/line-parsers.js';
import { queryInstant, scrapeTarget } from '../runtime/prometheus-query.js';

export interface PrometheusPollerOptions {
  spec: z.output<typeof PrometheusSpec>;
  tracked: string[];
  stepKeys: string[];
  pod: V1Pod;
  trial: { name: string; namespace: string; study: string };
  logger: Logger;
  onValues(values: MetricLine): void;
}

function fill(template: string, trial: PrometheusPollerOptions['trial']): string {
  return template
    .replaceAll('${trial.name}', trial.name)
    .replaceAll('${trial.namespace}', trial.namespace)
    .replaceAll('${study.name}', trial.study);
}

/**
 * Reads a running trial's metrics from Prometheus at an interval: either the pod's own endpoint
 * (podIP:port/path) or a Prometheus server's query API. Both hand the same metric map to the
 * collector that log parsing feeds, so the study sees no difference.
 */
export class PrometheusPoller {
  private readonly timer: NodeJS.Timeout;
  private busy = false;
  private lastKey = '';

  constructor(private readonly opts: PrometheusPollerOptions) {
    this.timer = setInterval(() => void this.poll(), opts.spec.intervalSeconds * 1000);
    void this.poll();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const values = this.opts.spec.mode === 'scrape' ? await this.scrape() : await this.query();
      // Unchanged samples are not new reports; feeding them would invent steps.
      const key = JSON.stringify([...values]);
      if (values.size > 0 && key !== this.lastKey) {
        this.lastKey = key;
        this.opts.onValues(values);
      }
    } catch (err) {
      this.opts.logger.debug(
        { err: (err as Error).message, trial: this.opts.trial.name },
        'prometheus poll failed',
      );
    } finally {
      this.busy = false;
    }
  }

  private async scrape(): Promise<MetricLine> {
    const ip = this.opts.pod.status?.podIP;
    if (!ip) return new Map();
    const { port, path } = this.opts.spec;
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const samples = await scrapeTarget(`http://${host}:${port}${path}`, { timeoutMs: 5000 });
    const prefix = this.opts.spec.metricPrefix;
    const out: MetricLine = new Map();
    for (const name of [...this.opts.stepKeys, ...this.opts.tracked]) {
      const sample = samples.find((s) => s.name === `${prefix}${name}`);
      if (sample) out.set(name, sample.value);
    }
    return out;
  }

  private async query(): Promise<MetricLine> {
    const out: MetricLine = new Map();
    for (const name of [...this.opts.stepKeys, ...this.opts.tracked]) {
      const value = await this.queryValue(name);
      if (value !== undefined) out.set(name, value);
    }
    // One query per metric is no snapshot: a scrape landing between them would pair the old
    // step with newer values and overwrite that step's point. If the step moved meanwhile, the
    // next poll reads the new step with its own values.
    const stepKey = this.opts.stepKeys.find((k) => out.has(k));
    if (stepKey !== undefined && !Object.is(await this.queryValue(stepKey), out.get(stepKey))) {
      return new Map();
    }
    return out;
  }

  private async queryValue(name: string): Promise<number | undefined> {
    const { url, queries, metricPrefix } = this.opts.spec;
    const promql = queries?.[name]
      ? fill(queries[name], this.opts.trial)
      : `${metricPrefix}${name}{trial="${this.opts.trial.name}"}`;
    const result = await queryInstant(url as string, promql, { timeoutMs: 5000 });
    return result[0]?.value;
  }
}
