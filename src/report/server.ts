import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { reportHtml } from './html.js';
import type { ReportData } from './model.js';
import type { StudySource } from './source.js';

/** Changes closer together than this are sent as one snapshot: a study's burst of status writes. */
const COALESCE_MS = 250;
/** Pages open at once; each holds one event stream, so a runaway tab cannot pile them up. */
const MAX_STREAMS = 32;

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

/**
 * Only requests addressed to the loopback name the server was opened with: a web page elsewhere
 * that rebinds its own DNS name to 127.0.0.1 sends its own Host and is refused.
 */
function hostAllowed(req: IncomingMessage, port: number): boolean {
  return [`127.0.0.1:${port}`, `localhost:${port}`].includes(req.headers.host ?? '');
}

class DashboardServer {
  private readonly streams = new Set<ServerResponse>();
  private snapshot: Promise<ReportData> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly source: StudySource) {}

  async refresh(): Promise<void> {
    this.snapshot = this.read();
    await this.snapshot;
  }

  private current(): Promise<ReportData> {
    return (this.snapshot ??= this.read());
  }

  private async read(): Promise<ReportData> {
    return {
      generatedAt: new Date().toISOString(),
      eventsUrl: 'events',
      studies: await this.source.studies(),
    };
  }

  /** Rebuilds the snapshot once the burst of changes is over and pushes it to every open page. */
  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.snapshot = this.read();
      this.snapshot.then(
        (data) => {
          const frame = `data: ${JSON.stringify(data)}\n\n`;
          for (const res of this.streams) res.write(frame);
        },
        (err: unknown) => console.error(`dashboard: cannot read the studies: ${(err as Error).message}`),
      );
    }, COALESCE_MS);
  }

  async handle(req: IncomingMessage, res: ServerResponse, port: number): Promise<void> {
    if (!hostAllowed(req, port)) return end(res, 403, 'text/plain', 'forbidden: unexpected Host header');
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') return end(res, 405, 'text/plain', 'only GET');
    if (url.pathname === '/')
      return end(res, 200, 'text/html; charset=utf-8', reportHtml(await this.current()));
    if (url.pathname === '/events') return this.stream(res);
    if (url.pathname === '/log') {
      try {
        const text = await this.source.log(
          url.searchParams.get('study') ?? '',
          url.searchParams.get('trial') ?? '',
        );
        return end(res, 200, 'text/plain; charset=utf-8', text);
      } catch (err) {
        return end(res, 404, 'text/plain; charset=utf-8', (err as Error).message);
      }
    }
    end(res, 404, 'text/plain', 'not found');
  }

  private stream(res: ServerResponse): void {
    if (this.streams.size >= MAX_STREAMS) return end(res, 503, 'text/plain', 'too many open dashboards');
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    this.streams.add(res);
    res.on('close', () => this.streams.delete(res));
    // A page that connects after a change it missed catches up at once.
    void this.current().then(
      (data) => res.write(`data: ${JSON.stringify(data)}\n\n`),
      () => undefined,
    );
  }

  close(): void {
    clearTimeout(this.timer);
    for (const res of this.streams) res.end();
  }
}

function end(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

/** Serves the report page of `source`'s studies on 127.0.0.1 only, pushing every change to open pages. */
export async function serveDashboard(source: StudySource, port: number): Promise<Dashboard> {
  const dashboard = new DashboardServer(source);
  // The watch fills the source's cache first, so the first page already shows every study.
  const stop = await source.watch(() => dashboard.changed());
  await dashboard.refresh();
  const server: Server = createServer((req, res) => {
    dashboard.handle(req, res, (server.address() as AddressInfo).port).catch((err: unknown) => {
      if (!res.headersSent) end(res, 500, 'text/plain', (err as Error).message);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    async close() {
      await stop();
      dashboard.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
