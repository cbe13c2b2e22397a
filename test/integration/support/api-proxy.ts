// An HTTP proxy between an operator under test and the real apiserver. The operator speaks plain
// HTTP to it (a kubeconfig written for the purpose); the proxy forwards over TLS with the test
// cluster's credentials. It sees every request, so tests can say what an operator sent and when,
// and it can inject the faults a real apiserver and network produce: 503 and 429 with
// Retry-After, connections reset before or after the apiserver acted, streams cut halfway.
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { Rng } from '../../../src/engine/rng.js';

/** 503 and 429 come with Retry-After (the apiserver shedding load), 500 without. */
export type Fault = 'none' | '500' | '503' | '429' | 'reset-before' | 'reset-after';

/**
 * A seeded schedule (the n-th request always gets the same decision), and aimed faults. The
 * schedule runs in blocks of 100 requests, each holding every fault its rate's share in a
 * seeded order, so that every fault with a rate is sure to happen once 100 requests went by.
 */
export interface FaultPlan {
  seed?: number;
  /** Share of each fault among requests (rounded to whole requests per 100); the rest pass. */
  rates?: Partial<Record<Exclude<Fault, 'none'>, number>>;
  /** Streams (watches, log follows) that pass are cut after a time drawn from this range. */
  cutStreamsAfterMs?: [number, number];
  /** Asked first; a fault it names replaces the schedule's for that request. */
  rule?: (r: { method: string; url: string; stream: boolean }) => Fault | undefined;
}

export interface ProxiedRequest {
  seq: number;
  method: string;
  /** Path and query, as the operator sent them. */
  url: string;
  stream: boolean;
  /** performance.now() in the test process when the request's headers arrived. */
  receivedAt: number;
  fault: Fault;
  /** The apiserver's status, when the request was forwarded and answered. */
  status?: number;
  /** metadata.resourceVersion of the object a 2xx write returned (etcd's revision of that write). */
  resourceVersion?: string;
}

const BLOCK = 100;

export const isWrite = (r: { method: string }) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method);

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'host', 'upgrade'];

function forwardedHeaders(
  h: IncomingHttpHeaders,
  extra: RequestOptions['headers'],
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.includes(k)) out[k] = v;
  return { ...out, ...(extra as Record<string, string>) };
}

export class ApiProxy {
  readonly requests: ProxiedRequest[] = [];
  private readonly rng: Rng | undefined;
  private block: Fault[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly held = new Map<ProxiedRequest, Promise<void>>();
  private nextHold:
    | { match: (r: ProxiedRequest) => boolean; arrived: (r: ProxiedRequest) => void; released: Promise<void> }
    | undefined;
  private server: Server | undefined;
  private dir: string | undefined;
  private upstream: RequestOptions = {};
  private target!: URL;
  /** Path of a kubeconfig that reaches the apiserver through this proxy. */
  kubeconfigPath = '';

  constructor(
    private readonly kc: KubeConfig,
    private readonly plan?: FaultPlan,
  ) {
    this.rng = plan?.seed !== undefined ? new Rng(plan.seed, 'api-proxy') : undefined;
  }

  async start(): Promise<void> {
    const server = this.kc.getCurrentCluster()?.server;
    if (!server) throw new Error('test kubeconfig has no current cluster');
    this.target = new URL(server);
    await this.kc.applyToHTTPSOptions(this.upstream);
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    const port = (this.server.address() as AddressInfo).port;
    this.dir = mkdtempSync(join(tmpdir(), 'kubetune-proxy-'));
    this.kubeconfigPath = join(this.dir, 'kubeconfig');
    writeFileSync(
      this.kubeconfigPath,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'proxy',
            cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true },
          },
        ],
        users: [{ name: 'proxy', user: {} }],
        contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'proxy' } }],
        'current-context': 'proxy',
      }),
    );
  }

  /**
   * Holds the answer to the next request matching `match`, which the apiserver still gets and
   * acts on, until release(): a way to freeze an operator with a request in flight.
   */
  holdNext(match: (r: ProxiedRequest) => boolean): { arrived: Promise<ProxiedRequest>; release(): void } {
    let release = () => {};
    const released = new Promise<void>((r) => (release = r));
    const arrived = new Promise<ProxiedRequest>((r) => (this.nextHold = { match, arrived: r, released }));
    return { arrived, release };
  }

  /** Resets every open connection at once, as an apiserver restart would. */
  resetAll(): void {
    for (const s of this.sockets) s.resetAndDestroy();
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise((r) => (this.server ? this.server.close(r) : r(undefined)));
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Count of requests per fault injected. */
  faultCounts(): Record<Fault, number> {
    const counts: Record<Fault, number> = {
      none: 0,
      '500': 0,
      '503': 0,
      '429': 0,
      'reset-before': 0,
      'reset-after': 0,
    };
    for (const r of this.requests) counts[r.fault]++;
    return counts;
  }

  private decide(r: { method: string; url: string; stream: boolean }): { fault: Fault; cutAfterMs: number } {
    const aimed = this.plan?.rule?.(r);
    if (aimed) return { fault: aimed, cutAfterMs: 0 };
    if (!this.rng || !this.plan) return { fault: 'none', cutAfterMs: 0 };
    if (this.block.length === 0) {
      const block = Object.entries(this.plan.rates ?? {}).flatMap(([f, rate]) =>
        Array<Fault>(Math.round(rate * BLOCK)).fill(f as Fault),
      );
      this.block = this.rng.shuffle([
        ...block,
        ...Array<Fault>(Math.max(0, BLOCK - block.length)).fill('none'),
      ]);
    }
    const fault = this.block.pop() ?? 'none';
    const [lo, hi] = this.plan.cutStreamsAfterMs ?? [0, 0];
    return { fault, cutAfterMs: hi > 0 ? lo + this.rng.float() * (hi - lo) : 0 };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const query = new URL(url, 'http://x').searchParams;
    const stream =
      query.get('watch') === 'true' || query.get('watch') === '1' || query.get('follow') === 'true';
    const method = req.method ?? 'GET';
    const { fault, cutAfterMs } = this.decide({ method, url, stream });
    const record: ProxiedRequest = {
      seq: this.requests.length,
      method,
      url,
      stream,
      receivedAt: performance.now(),
      fault,
    };
    this.requests.push(record);
    if (this.nextHold?.match(record)) {
      this.held.set(record, this.nextHold.released);
      this.nextHold.arrived(record);
      this.nextHold = undefined;
    }
    if (fault === 'reset-before') {
      req.socket.resetAndDestroy();
      return;
    }
    if (fault === '500' || fault === '503' || fault === '429') {
      req.resume();
      const reason = { '500': 'InternalError', '503': 'ServiceUnavailable', '429': 'TooManyRequests' }[fault];
      const retryAfter: Record<string, string> = fault === '500' ? {} : { 'retry-after': '1' };
      res.writeHead(Number(fault), { 'content-type': 'application/json', ...retryAfter });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason,
          code: Number(fault),
          message: `injected ${fault}`,
        }),
      );
      return;
    }
    this.forward(req, res, record, stream && cutAfterMs > 0 ? cutAfterMs : 0);
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    record: ProxiedRequest,
    cutAfterMs: number,
  ): void {
    const up = httpsRequest(
      {
        ...this.upstream,
        hostname: this.target.hostname,
        port: this.target.port,
        path: record.url,
        method: record.method,
        headers: forwardedHeaders(req.headers, this.upstream.headers),
      },
      (upRes) => {
        record.status = upRes.statusCode;
        if (record.fault === 'reset-after') {
          // The apiserver has acted; the operator never hears of it.
          upRes.resume();
          if (record.stream) req.socket.resetAndDestroy();
          else upRes.once('end', () => req.socket.resetAndDestroy());
          return;
        }
        void (this.held.get(record) ?? Promise.resolve()).then(() =>
          this.relay(upRes, req, res, record, cutAfterMs),
        );
      },
    );
    up.on('error', () => req.socket.destroy());
    res.once('close', () => up.destroy());
    req.pipe(up);
  }

  private relay(
    upRes: IncomingMessage,
    req: IncomingMessage,
    res: ServerResponse,
    record: ProxiedRequest,
    cutAfterMs: number,
  ): void {
    const headers = { ...upRes.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    res.writeHead(upRes.statusCode ?? 502, headers);
    if (isWrite(record) && (upRes.statusCode ?? 0) < 300) this.noteResourceVersion(upRes, record);
    upRes.pipe(res);
    if (cutAfterMs > 0) {
      const cut = setTimeout(() => req.socket.resetAndDestroy(), cutAfterMs);
      res.once('close', () => clearTimeout(cut));
    }
  }

  private noteResourceVersion(upRes: IncomingMessage, record: ProxiedRequest): void {
    let body = '';
    upRes.on('data', (d: Buffer) => {
      if (body.length < 1 << 20) body += d.toString();
    });
    upRes.once('end', () => {
      try {
        record.resourceVersion = (JSON.parse(body) as { metadata?: { resourceVersion?: string } }).metadata
          ?.resourceVersion;
      } catch {
        // Not JSON: nothing to note.
      }
    });
  }
}
