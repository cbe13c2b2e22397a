// A local HTTP server standing in for the apiserver in unit tests of error paths only (404, 409,
// 503, 429, dropped streams): each test routes the few paths it needs and injects the fault.
// What the operator does against a working apiserver is tested against the real one
// (test/integration).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export type Handler = (req: FakeRequest, res: ServerResponse) => void | Promise<void>;

export interface FakeApi {
  kc: KubeConfig;
  requests: FakeRequest[];
  /** Requests no route answered (answered 500, so a test that forgot a route fails loudly). */
  unrouted: FakeRequest[];
  /** Adds a route; later routes win, so a test can override a default for one fault. */
  route(method: string, path: RegExp, handler: Handler): void;
  close(): Promise<void>;
}

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(code, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A metav1.Status error, as the apiserver sends it. */
export function sendStatus(
  res: ServerResponse,
  code: number,
  reason: string,
  message: string,
  headers: Record<string, string> = {},
) {
  sendJson(
    res,
    code,
    { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message },
    headers,
  );
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function startFakeApi(): Promise<FakeApi> {
  const routes: { method: string; path: RegExp; handler: Handler }[] = [];
  const requests: FakeRequest[] = [];
  const unrouted: FakeRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const fr: FakeRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: await readBody(req),
      };
      requests.push(fr);
      const route = [...routes].reverse().find((r) => r.method === fr.method && r.path.test(fr.path));
      if (!route) {
        unrouted.push(fr);
        sendStatus(res, 500, 'InternalError', `fake api: no route for ${fr.method} ${fr.path}`);
        return;
      }
      await route.handler(fr, res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'fake', token: 'fake' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  return {
    kc,
    requests,
    unrouted,
    route(method, path, handler) {
      routes.push({ method, path, handler });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
