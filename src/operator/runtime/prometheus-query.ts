// A minimal client for Prometheus' instant-query API and for scraping a /metrics endpoint.
// Both are bounded by a timeout: a metrics source that hangs must not stall a reconcile.
import { parsePrometheusText, parsePromNumber } from './prometheus-text.js';
import type { PromSample } from './prometheus-text.js';

export interface HttpOptions {
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export interface InstantSample {
  labels: Record<string, string>;
  value: number;
}

export class PrometheusQueryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly errorType?: string,
  ) {
    super(message);
    this.name = 'PrometheusQueryError';
  }
}

interface ApiResponse {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

const DEFAULT_TIMEOUT_MS = 10_000;

async function request(url: string, init: RequestInit, opts: HttpOptions, what: string): Promise<Response> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    return await (opts.fetchImpl ?? fetch)(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError')
      throw new PrometheusQueryError(`${what}: no answer within ${timeoutMs} ms`);
    const cause = (e.cause as Error | undefined)?.message;
    throw new PrometheusQueryError(`${what}: ${e.message}${cause ? ` (${cause})` : ''}`);
  }
}

const sampleValue = (pair: unknown, what: string): number => {
  const raw = Array.isArray(pair) ? pair[1] : undefined;
  const value = typeof raw === 'string' ? parsePromNumber(raw) : undefined;
  if (value === undefined)
    throw new PrometheusQueryError(`${what}: malformed sample ${JSON.stringify(pair)}`);
  return value;
};

/** Runs an instant query; a scalar result comes back as one sample without labels. */
export async function queryInstant(
  baseUrl: string,
  promql: string,
  opts: HttpOptions & { time?: Date } = {},
): Promise<InstantSample[]> {
  const what = `query ${JSON.stringify(promql)}`;
  const form = new URLSearchParams({ query: promql });
  if (opts.time) form.set('time', String(opts.time.getTime() / 1000));
  // POST keeps long queries out of URL length limits; Prometheus accepts both.
  const res = await request(
    new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).toString(),
    { method: 'POST', body: form, headers: { accept: 'application/json' } },
    opts,
    what,
  );
  const text = await res.text();
  let body: ApiResponse;
  try {
    body = JSON.parse(text) as ApiResponse;
  } catch {
    throw new PrometheusQueryError(
      `${what}: HTTP ${res.status}, not a Prometheus API response: ${text.slice(0, 200)}`,
      res.status,
    );
  }
  if (body.status !== 'success') {
    const message = body.error ?? `HTTP ${res.status}`;
    throw new PrometheusQueryError(
      `${what}: ${body.errorType ? `${body.errorType}: ` : ''}${message}`,
      res.status,
      body.errorType,
    );
  }
  const { resultType, result } = body.data ?? {};
  switch (resultType) {
    case 'vector':
      if (!Array.isArray(result)) throw new PrometheusQueryError(`${what}: vector result is not an array`);
      return result.map((s: { metric?: Record<string, string>; value?: unknown }) => ({
        labels: { ...s.metric },
        value: sampleValue(s.value, what),
      }));
    case 'scalar':
      return [{ labels: {}, value: sampleValue(result, what) }];
    default:
      throw new PrometheusQueryError(`${what}: expected a vector or scalar result, got ${resultType}`);
  }
}

/** GETs a Prometheus text exposition and parses it. */
export async function scrapeTarget(url: string, opts: HttpOptions = {}): Promise<PromSample[]> {
  const what = `scrape ${url}`;
  // Asking for the classic text format keeps servers that also speak OpenMetrics/protobuf on it.
  const res = await request(
    url,
    { headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' } },
    opts,
    what,
  );
  const text = await res.text();
  if (!res.ok)
    throw new PrometheusQueryError(`${what}: HTTP ${res.status}: ${text.slice(0, 200)}`, res.status);
  try {
    return parsePrometheusText(text);
  } catch (err) {
    throw new PrometheusQueryError(`${what}: ${(err as Error).message}`, res.status);
  }
}
