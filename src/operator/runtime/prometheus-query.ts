// A minimal client for Prometheus' instant-query API and for scraping a /metrics endpoint.
// Both are bounded by a timeout: a metrics source that hangs must not stall a reconcile.
import { parsePrometheusText, parsePromNumber } from './prometheus-text.js';
import type { PromSample } from './prometheus-text.js';

export interface HttpOptions {
  timeoutMs?: number;
  /** A longer response is abandoned unread: a trial's endpoint must not fill the operator's memory. */
  maxBodyBytes?: number;
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
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * One request and its body as text. Redirects are refused: the URL was checked (the trial's own
 * pod, an allowlisted server), and a redirect would take the operator somewhere that was not.
 */
async function request(
  url: string,
  init: RequestInit,
  opts: HttpOptions,
  what: string,
): Promise<{ res: Response; text: string }> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    const res = await (opts.fetchImpl ?? fetch)(url, {
      ...init,
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { res, text: await readCapped(res, opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, what) };
  } catch (err) {
    if (err instanceof PrometheusQueryError) throw err;
    const e = err as Error;
    if (e.name === 'TimeoutError')
      throw new PrometheusQueryError(`${what}: no answer within ${timeoutMs} ms`);
    const cause = (e.cause as Error | undefined)?.message;
    throw new PrometheusQueryError(`${what}: ${e.message}${cause ? ` (${cause})` : ''}`);
  }
}

async function readCapped(res: Response, maxBytes: number, what: string): Promise<string> {
  const tooLarge = () =>
    new PrometheusQueryError(`${what}: response larger than ${maxBytes} bytes`, res.status);
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
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
  const { res, text } = await request(
    new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).toString(),
    { method: 'POST', body: form, headers: { accept: 'application/json' } },
    opts,
    what,
  );
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
  const { res, text } = await request(
    url,
    { headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' } },
    opts,
    what,
  );
  if (!res.ok)
    throw new PrometheusQueryError(`${what}: HTTP ${res.status}: ${text.slice(0, 200)}`, res.status);
  try {
    return parsePrometheusText(text);
  } catch (err) {
    throw new PrometheusQueryError(`${what}: ${(err as Error).message}`, res.status);
  }
}
