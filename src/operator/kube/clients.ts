import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  createConfiguration,
  CustomObjectsApi,
  FetchError,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  PatchStrategy,
  ResponseContext,
  SelfDecodingBody,
  ServerConfiguration,
  setHeaderOptions,
  wrapHttpLibrary,
} from '@kubernetes/client-node';
import type {
  ApiConstructor,
  ApiType,
  Configuration,
  HttpLibrary,
  RequestContext,
} from '@kubernetes/client-node';

export interface KubeClients {
  kc: KubeConfig;
  custom: CustomObjectsApi;
  batch: BatchV1Api;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
}

/**
 * What lets a leader's requests through. Once `signal` aborts (leadership ended) every request
 * is refused before it is sent and every connection still open is cut; `writeBlocked` is asked
 * just before each write is sent and refuses it with the reason it returns.
 */
export interface Fence {
  signal: AbortSignal;
  writeBlocked(): string | undefined;
}

export interface ClientOptions {
  fence?: Fence;
  /**
   * Limit on one API call, response body included. Watches and log streams, which stay open by
   * design, are exempt (informers and log followers detect silence themselves). Default 30 s.
   */
  requestTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** A request that the fence refused, or cut off when leadership ended. */
export class FencedError extends Error {
  override name = 'FencedError';
}

/** An API call that did not complete within the request timeout. */
export class RequestTimeoutError extends Error {
  override name = 'RequestTimeoutError';
}

/** In-cluster when running in a pod without KUBECONFIG; otherwise the given or default kubeconfig. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

/**
 * Clients whose every request carries the options: the generated API clients, and `kc` itself,
 * which informers' watches and log streams use, so callers need no per-call plumbing.
 */
export function makeClients(kc: KubeConfig, opts: ClientOptions = {}): KubeClients {
  const guarded = new GuardedKubeConfig(kc, opts);
  return {
    kc: guarded,
    custom: guarded.makeApiClient(CustomObjectsApi),
    batch: guarded.makeApiClient(BatchV1Api),
    core: guarded.makeApiClient(CoreV1Api),
    coordination: guarded.makeApiClient(CoordinationV1Api),
  };
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function refusal(fence: Fence | undefined, method: string): string | undefined {
  if (!fence) return undefined;
  if (fence.signal.aborted) return reasonText(fence.signal.reason);
  return READ_METHODS.has(method.toUpperCase()) ? undefined : fence.writeBlocked();
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason ?? 'fence is down');
}

/**
 * A KubeConfig that hands out guarded clients (makeApiClient) and guarded connections
 * (applyToHTTPSOptions, which client-node's Watch and Log and kubetune's streamPodLog call before
 * every request). Those streaming callers set their own AbortSignal, so the fence reaches them at
 * the socket: every connection opened for them is destroyed when the fence goes down.
 */
class GuardedKubeConfig extends KubeConfig {
  private readonly fence: Fence | undefined;
  private readonly config: Configuration;
  private readonly sockets = new Set<Duplex>();
  private shared: { key: string; agent: Agent | HttpsAgent } | undefined;

  constructor(base: KubeConfig, opts: ClientOptions) {
    super();
    this.loadFromOptions({
      clusters: base.clusters,
      users: base.users,
      contexts: base.contexts,
      currentContext: base.currentContext,
    });
    this.fence = opts.fence;
    const server = this.getCurrentCluster()?.server;
    if (!server) throw new Error('kubeconfig has no current cluster');
    this.config = createConfiguration({
      baseServer: new ServerConfiguration(server, {}),
      authMethods: { default: this },
      httpApi: guardedHttp(new IsomorphicFetchHttpLibrary(), opts.fence, opts.requestTimeoutMs),
    });
    this.fence?.signal.addEventListener(
      'abort',
      () => {
        const err = new FencedError(`connection cut: ${reasonText(this.fence?.signal.reason)}`);
        for (const socket of this.sockets) socket.destroy(err);
        this.shared?.agent.destroy();
      },
      { once: true },
    );
  }

  override makeApiClient<T extends ApiType>(apiClientType: ApiConstructor<T>): T {
    return new apiClientType(this.config);
  }

  override async applyToHTTPSOptions(opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
    const refused = refusal(this.fence, 'GET');
    if (refused !== undefined) throw new FencedError(`request refused: ${refused}`);
    await super.applyToHTTPSOptions(opts);
    if (opts.agent instanceof Agent) opts.agent = this.reuse(opts.agent);
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const agent = context.getAgent();
    if (agent instanceof Agent) context.setAgent(this.reuse(agent));
  }

  /**
   * client-node gives every call, watch and log stream a new agent, so each opened its own
   * connection: over TLS a full handshake on both sides (most of a call's time on a busy
   * apiserver), and a TLS context in native memory until its wrapper is garbage collected (most
   * of the operator's RSS at 200 running trials, with a log stream or two per trial). They share
   * one keep-alive agent instead, for as long as the settings it was made with (CA, client
   * certificate and key) stay the same; tokens travel in headers, which are set per call. Proxy
   * agents are used as made. A replaced agent is not destroyed: what is in flight on it
   * finishes, then its sockets idle out.
   */
  private reuse(made: Agent): Agent {
    if (made.constructor !== HttpsAgent && made.constructor !== Agent) return this.fenced(made);
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = (made as HttpsAgent).options;
    const tls = [ca, cert, key, pfx, passphrase, rejectUnauthorized, servername].map(String);
    const id = JSON.stringify([made.constructor.name, ...tls]);
    if (this.shared?.key !== id) {
      const agent =
        made instanceof HttpsAgent
          ? new HttpsAgent({ ...made.options, keepAlive: true })
          : new Agent({ keepAlive: true });
      this.shared = { key: id, agent: this.fenced(agent) };
    }
    return this.shared.agent;
  }

  /** The agent's connections are cut when the fence goes down, and refused once it is. */
  private fenced(agent: Agent): Agent {
    if (!this.fence) return agent;
    const connect = agent.createConnection.bind(agent);
    // Checked again when the socket is made: the caller may have awaited in between.
    agent.createConnection = (options, callback) => {
      const socket = connect(options, callback);
      if (!socket) return socket;
      const refused = refusal(this.fence, 'GET');
      if (refused !== undefined) socket.destroy(new FencedError(`request refused: ${refused}`));
      else {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
      }
      return socket;
    };
    return agent;
  }
}

/** Tries per call, the first included, for answers and failures that are worth repeating. */
const MAX_TRIES = 5;

/**
 * client-node's fetch library with the fence checked just before each request is sent (retries
 * included), and one signal for the leadership and the timeout, which bounds the whole call:
 * retries, and the body, which is read here so that a response stalling halfway counts too.
 */
function guardedHttp(
  inner: HttpLibrary,
  fence: Fence | undefined,
  timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): HttpLibrary {
  return wrapHttpLibrary({
    async send(ctx: RequestContext): Promise<ResponseContext> {
      const method = ctx.getHttpMethod();
      const what = `${method} ${new URL(ctx.getUrl()).pathname}`;
      const checkFence = () => {
        const refused = refusal(fence, method);
        if (refused !== undefined) throw new FencedError(`${what} refused: ${refused}`);
      };
      checkFence();
      const deadline = performance.now() + timeoutMs;
      const ac = new AbortController();
      const timer = setTimeout(
        () => ac.abort(new RequestTimeoutError(`${what} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onFence = () => ac.abort(new FencedError(`${what} cut off: ${reasonText(fence?.signal.reason)}`));
      fence?.signal.addEventListener('abort', onFence, { once: true });
      ctx.setSignal(ac.signal);
      try {
        for (let tries = 1; ; tries++) {
          const outcome = await sendBuffered(inner, ctx).catch((err: unknown) => asError(err));
          const wait =
            ac.signal.aborted || tries >= MAX_TRIES ? undefined : retryDelayMs(outcome, method, tries);
          if (wait === undefined || performance.now() + wait >= deadline) {
            if (outcome instanceof Error) throw outcome;
            return outcome;
          }
          await sleep(wait, undefined, { signal: ac.signal });
          checkFence();
        }
      } catch (err) {
        // node-fetch reports any abort as "The user aborted a request."; say which it was.
        throw ac.signal.aborted ? ac.signal.reason : err;
      } finally {
        clearTimeout(timer);
        fence?.signal.removeEventListener('abort', onFence);
      }
    },
  });
}

async function sendBuffered(inner: HttpLibrary, ctx: RequestContext): Promise<ResponseContext> {
  const res = await inner.send(ctx).toPromise();
  const body = await res.body.binary();
  return new ResponseContext(res.httpStatusCode, res.headers, new SelfDecodingBody(Promise.resolve(body)));
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * When to try again, or undefined not to. As client-go: an answer of 429 or 5xx that carries
 * Retry-After (the apiserver's way of saying "not now", as it sheds load) for any method; a
 * connection that failed, only for reads, as a write's fate is then unknown.
 */
function retryDelayMs(outcome: ResponseContext | Error, method: string, tries: number): number | undefined {
  if (outcome instanceof FetchError)
    return outcome.type === 'system' && READ_METHODS.has(method) ? 100 * 2 ** (tries - 1) : undefined;
  if (outcome instanceof Error) return undefined;
  const status = outcome.httpStatusCode;
  if (status !== 429 && (status < 500 || status > 599)) return undefined;
  const retryAfter = outcome.headers['retry-after'];
  const seconds =
    retryAfter !== undefined && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : undefined;
  return seconds === undefined ? undefined : seconds * 1000;
}

// Custom resources do not support strategic merge patch, and the generated clients default to
// JSON Patch; every patch kubetune sends is a merge patch.
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
