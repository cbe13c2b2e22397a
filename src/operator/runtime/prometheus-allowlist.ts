import type { StudySpec } from '../../api/study.js';

const FIELD = 'spec.metrics.prometheus.url';

/**
 * The Prometheus servers Studies may have the operator query (`metrics.prometheus.mode: query`).
 * A Study is untrusted, and the operator's requests come from inside the cluster with the
 * operator's network reach, so the operator's configuration names the servers; empty (the
 * default) turns query mode off. Entries are URL prefixes compared after parsing, by origin and
 * then by whole path segments, so `http://prom:9090/api` admits `http://prom:9090/api/v1` but
 * neither `http://prom:9090/apix` nor `http://prom:9090@elsewhere/api`.
 */
export class PrometheusAllowlist {
  private constructor(private readonly entries: readonly URL[]) {}

  /** Parses operator configuration; throws with the bad entry, as a flag error. */
  static parse(entries: readonly string[]): PrometheusAllowlist {
    return new PrometheusAllowlist(
      entries.map((raw) => {
        const url = httpUrl(raw);
        if (typeof url === 'string')
          throw new Error(`Prometheus allowlist entry ${JSON.stringify(raw)} ${url}`);
        return url;
      }),
    );
  }

  /** Why the Study may not use its query URL (an InvalidSpec message), or undefined. */
  check(spec: StudySpec): string | undefined {
    const raw = spec.metrics.prometheus?.mode === 'query' ? spec.metrics.prometheus.url : undefined;
    if (raw === undefined) return undefined;
    const url = httpUrl(raw);
    if (typeof url === 'string') return `${FIELD}: ${JSON.stringify(raw)} ${url}`;
    if (this.entries.length === 0)
      return `${FIELD}: query mode is disabled: this operator has an empty Prometheus allowlist (--prometheus-url-allowlist, Helm value prometheus.urlAllowlist)`;
    if (this.entries.some((e) => e.origin === url.origin && underPath(url.pathname, e.pathname)))
      return undefined;
    const allowed = this.entries.map((e) => e.href).join(', ');
    return `${FIELD}: ${JSON.stringify(raw)} is not in the operator's Prometheus allowlist (${allowed})`;
  }
}

function httpUrl(raw: string): URL | string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
  if (url.username || url.password) return 'must not carry credentials';
  if (url.search || url.hash) return 'must not carry a query or fragment';
  return url;
}

function underPath(path: string, prefix: string): boolean {
  const base = prefix.replace(/\/$/, '');
  return path === base || path.startsWith(`${base}/`);
}
