import { parsePrometheusText, type Sample } from './prometheus-text.js';

async function get(url: string, timeoutMs: number, fetchImpl: typeof fetch): Promise<Response> {
  const res = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs) });
  return res;
}

/** GETs a /metrics endpoint and parses it. */
export async function scrapeTarget(
  url: string,
  opts: { timeoutMs?: number; fetchImpl?: typeof fetch } = {},
): Promise<Sample[]> {
  const res = await get(url, opts.timeoutMs ?? 5000, opts.fetchImpl ?? fetch);
  if (!res.ok) throw new Error(`scrape ${url}: HTTP ${res.status}`);
  return parsePrometheusText(await res.text());
}

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: unknown };
}

/** An instant query against a Prometheus server's HTTP API (vector or scalar results). */
export async function queryInstant(
  baseUrl: string,
  promql: string,
  opts: { timeoutMs?: number; fetchImpl?: typeof fetch } = {},
): Promise<{ labels: Record<string, string>; value: number }[]> {
  const url = `${baseUrl.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(promql)}`;
  const res = await get(url, opts.timeoutMs ?? 5000, opts.fetchImpl ?? fetch);
  const body = (await res.json().catch(() => undefined)) as QueryResponse | undefined;
  if (!body || body.status !== 'success' || !body.data) {
    throw new Error(
      `prometheus query ${JSON.stringify(promql)} failed: ${body?.error ?? `HTTP ${res.status}`}`,
    );
  }
  const { resultType, result } = body.data;
  if (resultType === 'scalar') return [{ labels: {}, value: Number((result as [number, string])[1]) }];
  if (resultType === 'vector') {
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({
      labels: r.metric,
      value: Number(r.value[1]),
    }));
  }
  throw new Error(
    `prometheus query ${JSON.stringify(promql)} returned a ${resultType}; an instant vector or scalar is needed`,
  );
}
