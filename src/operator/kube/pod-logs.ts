import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { MAX_LINE_LENGTH } from '../../api/metrics-spec.js';
import { LineSplitter } from '../../metrics/line-splitter.js';

export interface PodLogRequest {
  namespace: string;
  pod: string;
  container: string;
  follow?: boolean;
  timestamps?: boolean;
  sinceTime?: string;
  limitBytes?: number;
}

export class LogRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * GET pods/log, line by line. Written on node:https rather than client-node's Log because that
 * one pipes the body without forwarding errors, so a broken stream never ends; here every way a
 * stream can stop settles the promise, and the caller decides whether to resume.
 */
export async function streamPodLog(
  kc: KubeConfig,
  req: PodLogRequest,
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(
    `${cluster.server.replace(/\/$/, '')}/api/v1/namespaces/${req.namespace}/pods/${req.pod}/log`,
  );
  url.searchParams.set('container', req.container);
  if (req.follow) url.searchParams.set('follow', 'true');
  if (req.timestamps) url.searchParams.set('timestamps', 'true');
  if (req.sinceTime) url.searchParams.set('sinceTime', req.sinceTime);
  if (req.limitBytes) url.searchParams.set('limitBytes', String(req.limitBytes));
  const opts: RequestOptions = { method: 'GET', headers: {} };
  await kc.applyToHTTPSOptions(opts);
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;

  return new Promise<void>((resolve, reject) => {
    const r = send(url, { ...opts, signal }, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          reject(new LogRequestError(res.statusCode ?? 0, messageOf(body) ?? `HTTP ${res.statusCode}`)),
        );
        res.on('error', reject);
        return;
      }
      // Not readline: it holds a line without a newline whole, however long a trainer makes it.
      const lines = new LineSplitter(MAX_LINE_LENGTH, onLine);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => lines.push(chunk));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('log stream aborted')));
      res.on('close', () => {
        lines.end();
        resolve();
      });
    });
    r.on('error', reject);
    r.end();
  });
}

function messageOf(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { message?: string }).message;
  } catch {
    return body.trim() || undefined;
  }
}

/** Splits `2026-01-02T03:04:05.123456789Z text` into its timestamp and text. */
export function splitTimestamp(line: string): { ts: string; text: string } | undefined {
  const space = line.indexOf(' ');
  const ts = space < 0 ? line : line.slice(0, space);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(ts)) return undefined;
  return { ts, text: space < 0 ? '' : line.slice(space + 1) };
}

/** RFC3339Nano timestamps compared exactly (Date would drop the nanoseconds). */
export function compareTimestamps(a: string, b: string): number {
  const norm = (t: string) => {
    const [sec, frac = ''] = t.replace(/Z$/, '').split('.');
    return `${sec}.${frac.padEnd(9, '0')}`;
  };
  const x = norm(a);
  const y = norm(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
