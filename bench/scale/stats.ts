// The arithmetic of `npm run bench:scale`, kept free of I/O so it has unit tests
// (test/unit/bench/scale-stats.test.ts): counter deltas from Prometheus text, request
// classification, percentiles and slot-refill pairing.
import { parsePrometheusText } from '../../src/operator/runtime/prometheus-text.js';

/** Counter totals keyed by the chosen labels joined with a space, summed over every other label. */
export type Counters = Map<string, number>;

export function counterTotals(text: string, metric: string, keyLabels: string[]): Counters {
  const out: Counters = new Map();
  for (const s of parsePrometheusText(text)) {
    if (s.name !== metric) continue;
    const key = keyLabels.map((l) => s.labels[l] ?? '').join(' ');
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** The first sample of a gauge among `names` (etcd renamed its metrics between versions). */
export function firstGauge(text: string, names: string[]): number | undefined {
  const samples = parsePrometheusText(text);
  for (const name of names) {
    const s = samples.find((x) => x.name === name);
    if (s) return s.value;
  }
  return undefined;
}

/** after − before per key; keys that did not move are left out. */
export function counterDelta(before: Counters, after: Counters): Counters {
  const out: Counters = new Map();
  for (const [key, v] of after) {
    const d = v - (before.get(key) ?? 0);
    if (d !== 0) out.set(key, d);
  }
  return out;
}

export function sumWhere(c: Counters, keep: (key: string) => boolean): number {
  let total = 0;
  for (const [key, v] of c) if (keep(key)) total += v;
  return total;
}

// The apiserver reports creates as POST and updates as PUT; the client-side counter reports the
// same names, so one rule classifies both.
const WRITE_VERBS = new Set([
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'DELETECOLLECTION',
  'APPLY',
  'CREATE',
  'UPDATE',
]);

/** Keys are "VERB resource[/subresource]"; a pods/log stream is a read however it is counted. */
export function isWrite(key: string): boolean {
  const [verb, resource] = key.split(' ');
  return WRITE_VERBS.has(verb ?? '') && resource !== 'pods/log';
}

export function isList(key: string): boolean {
  return key.startsWith('LIST ');
}

/** apiserver_request_total's labels as one key, "VERB resource[/subresource]". */
export function apiserverKey(labels: { verb: string; resource: string; subresource: string }): string {
  return `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
}

const CONNECT_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

/**
 * The apiserver's verb and resource for a client request, as apiserver_request_total names them:
 * GET of a collection is LIST, with watch=true it is WATCH.
 */
export function classifyRequest(method: string, url: string): string {
  const u = new URL(url, 'https://apiserver.invalid');
  const parts = u.pathname.split('/').filter(Boolean);
  // /api/v1/... or /apis/<group>/<version>/...
  let rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [resource = '', name, subresource] = rest;
  const what = subresource ? `${resource}/${subresource}` : resource;
  const m = method.toUpperCase();
  // Streaming subresources are CONNECT to the apiserver, whatever the HTTP method.
  if (subresource && CONNECT_SUBRESOURCES.has(subresource)) return `CONNECT ${what}`;
  if (m !== 'GET') return `${m} ${what}`;
  if (u.searchParams.get('watch') === 'true' || u.searchParams.get('watch') === '1') return `WATCH ${what}`;
  return `${name === undefined ? 'LIST' : 'GET'} ${what}`;
}

/** Nearest-rank quantile, as bench/operator uses; NaN for no data. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))] as number;
}

export const median = (xs: readonly number[]): number => quantile(xs, 0.5);

/**
 * Slot-refill pairs of one study: each finished trial frees a slot, and the Jobs created after
 * the first `parallelism` fill freed slots. Finishes are taken in order, each paired with the
 * first unpaired refill Job created at or after it; finishes that no Job follows (the study's
 * last trials) are left out.
 */
export function refillPairs<F extends { at: number }, J extends { at: number }>(
  finishes: readonly F[],
  jobs: readonly J[],
  parallelism: number,
): { finish: F; job: J }[] {
  const pending = [...jobs].sort((a, b) => a.at - b.at).slice(parallelism);
  const out: { finish: F; job: J }[] = [];
  for (const finish of [...finishes].sort((a, b) => a.at - b.at)) {
    const i = pending.findIndex((c) => c.at >= finish.at);
    if (i < 0) break;
    out.push({ finish, job: pending[i] as J });
    pending.splice(i, 1);
  }
  return out;
}

/** Slot-refill latencies of one study (see refillPairs). */
export function refillLatencies(finishedAt: number[], jobCreatedAt: number[], parallelism: number): number[] {
  const at = (t: number) => ({ at: t });
  return refillPairs(finishedAt.map(at), jobCreatedAt.map(at), parallelism).map(
    (p) => p.job.at - p.finish.at,
  );
}

/** n / trials, or NaN when no trial completed (so a broken run never reads as "free"). */
export function perTrial(n: number, trials: number): number {
  return trials > 0 ? n / trials : NaN;
}
