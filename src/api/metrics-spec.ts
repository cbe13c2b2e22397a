import { z } from 'zod';
import { metricPatternProblem } from '../metrics/metric-pattern.js';
import { withRules } from './crd-meta.js';

export const METRIC_FORMATS = ['keyvalue', 'json', 'regex'] as const;
export const METRIC_SOURCES = ['logs', 'prometheus'] as const;
/** Upper bound of metrics.maxLineLength; log readers keep no more of a line than this. */
export const MAX_LINE_LENGTH = 1_048_576;
export const FINAL_STRATEGIES = ['last', 'min', 'max'] as const;
export type FinalStrategy = (typeof FINAL_STRATEGIES)[number];

export const PrometheusSpec = withRules(
  z.strictObject({
    /** scrape: read the trial pod's own /metrics; query: ask a Prometheus server. */
    mode: z.enum(['scrape', 'query']).default('scrape'),
    port: z.number().int().min(1).max(65535).optional(),
    /** Appended to `http://<pod IP>:<port>`; it starts with `/` so it cannot name another host. */
    path: z.string().max(253).default('/metrics'),
    /** Seconds between two reads; the floor keeps a Study from having the operator poll in a loop. */
    intervalSeconds: z.number().min(0.5).max(3600).default(5),
    /** Prefix of the exported series: metric `val_loss` is read from `<prefix>val_loss`. */
    metricPrefix: z.string().max(253).default(''),
    /** Base URL of the Prometheus HTTP API, for mode query; must be in the operator's allowlist. */
    url: z.string().max(2048).optional(),
    /**
     * PromQL per metric for mode query; `${trial.name}`, `${trial.namespace}` and `${study.name}`
     * are substituted. Without it the query is `<prefix><metric>{trial="<trial>"}`.
     */
    queries: z.record(z.string(), z.string().max(4096)).optional(),
  }),
  [
    {
      cel: "self.mode != 'scrape' || has(self.port)",
      message: 'mode scrape needs the port the trial serves metrics on',
      path: 'port',
      holds: (p) => p.mode !== 'scrape' || p.port !== undefined,
    },
    {
      cel: "self.path.startsWith('/')",
      message:
        'path must start with / (it follows http://<pod IP>:<port>, so nothing else may name the host)',
      path: 'path',
      holds: (p) => p.path.startsWith('/'),
    },
    {
      cel: "self.mode != 'query' || has(self.url)",
      message: 'mode query needs the url of the Prometheus server',
      path: 'url',
      holds: (p) => p.mode !== 'query' || p.url !== undefined,
    },
  ],
);

export const MetricsSpec = withRules(
  z.strictObject({
    source: z.enum(METRIC_SOURCES).default('logs'),
    /**
     * keyvalue: `epoch=3 loss=0.29` lines (Katib's text format); json: one object per line;
     * regex: the user's pattern with named groups `name` and `value` (and optionally `step`).
     */
    format: z.enum(METRIC_FORMATS).default('keyvalue'),
    regex: z
      .string()
      .max(1024)
      .superRefine((source, ctx) => {
        const problem = metricPatternProblem(source);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    /** Keys that carry the step of a line; the first one present wins. */
    stepKeys: z.array(z.string().max(63)).max(8).default(['step', 'epoch']),
    /** How a trial's final value is chosen from what it reported. */
    strategy: z.enum(FINAL_STRATEGIES).default('last'),
    /** Per-metric overrides of `strategy`. */
    strategies: z.record(z.string(), z.enum(FINAL_STRATEGIES)).optional(),
    /** Bound on intermediate values kept per trial; older points are thinned, the latest kept. */
    maxIntermediateValues: z.number().int().min(8).max(2000).default(200),
    /** Longer output lines (in characters) are skipped and counted, never parsed for metrics. */
    maxLineLength: z.number().int().min(1024).max(MAX_LINE_LENGTH).default(65_536),
    prometheus: PrometheusSpec.optional(),
    /**
     * Labels of the pod whose logs or endpoint carry the metrics. Default: the Job's pod (of
     * completion index 0 in an Indexed Job), or a JobSet's leader (first replicated job, job
     * index 0, completion index 0).
     */
    podSelector: z.record(z.string().min(1).max(317), z.string().max(63)).optional(),
  }),
  [
    {
      cel: "self.format != 'regex' || has(self.regex)",
      message: 'format regex needs a regex with named groups name and value',
      path: 'regex',
      holds: (m) => m.format !== 'regex' || m.regex !== undefined,
    },
    {
      cel: "!has(self.regex) || (self.regex.contains('?<name>') && self.regex.contains('?<value>'))",
      message: 'regex must have named groups (?<name>...) and (?<value>...)',
      path: 'regex',
      holds: (m) => m.regex === undefined || (m.regex.includes('?<name>') && m.regex.includes('?<value>')),
    },
    {
      cel: "self.source != 'prometheus' || has(self.prometheus)",
      message: 'source prometheus needs the prometheus section',
      path: 'prometheus',
      holds: (m) => m.source !== 'prometheus' || m.prometheus !== undefined,
    },
  ],
);
export type MetricsSpec = z.output<typeof MetricsSpec>;
