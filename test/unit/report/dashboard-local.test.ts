// `kubetune dashboard DIR` over HTTP: the page with every local study, trial logs, a refused
// foreign Host, and a fresh snapshot pushed when a results.json is rewritten.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StudyResults } from '../../../src/local/results.js';
import { StudySpec } from '../../../src/api/study.js';
import { localSource } from '../../../src/report/local-source.js';
import type { ReportData } from '../../../src/report/model.js';
import { serveDashboard, type Dashboard } from '../../../src/report/server.js';
import { requireReportBundle } from '../../support/browser.js';

function results(dir: string, study: string, states: ('Succeeded' | 'Running')[]): StudyResults {
  const spec = StudySpec.parse({
    objective: { metric: 'loss', goal: 'minimize' },
    parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
    trialTemplate: { spec: { template: { spec: { containers: [{ name: 't', image: 'x' }] } } } },
  });
  mkdirSync(join(dir, study, 'logs'), { recursive: true });
  const trials = states.map((state, i) => {
    const logFile = join(dir, study, 'logs', `${study}-${i}.log`);
    writeFileSync(logFile, `log of ${study}-${i}\n`);
    const value = state === 'Succeeded' ? { value: i / 10 } : {};
    return {
      name: `${study}-${i}`,
      index: i,
      params: { x: i / 10 },
      formattedParams: { x: String(i / 10) },
      state,
      ...value,
      metrics: {},
      intermediate: [],
      startTime: '2026-01-01T00:00:00Z',
      logFile,
    };
  });
  return {
    study,
    spec,
    outcome: { done: false, succeeded: false, message: '' },
    interrupted: false,
    trials,
  } as unknown as StudyResults;
}

function save(dir: string, r: StudyResults): void {
  writeFileSync(join(dir, r.study, 'results.json'), JSON.stringify(r));
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** Resolves with the first event-stream snapshot for which `want` holds; `first` sees the first one. */
function nextSnapshot(
  url: string,
  want: (d: ReportData) => boolean,
  first: (d: ReportData) => void,
): Promise<ReportData> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}events`, (res) => {
      let buf = '';
      let seen = false;
      res.on('data', (d: Buffer) => {
        buf += d.toString();
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const data = JSON.parse(buf.slice(0, end).replace(/^data: /, '')) as ReportData;
          buf = buf.slice(end + 2);
          if (!seen) first(data);
          seen = true;
          if (want(data)) {
            req.destroy();
            resolve(data);
          }
        }
      });
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end();
  });
}

describe('kubetune dashboard DIR', () => {
  let dir: string;
  let dashboard: Dashboard;
  before(async () => {
    requireReportBundle();
    dir = mkdtempSync(join(tmpdir(), 'kt-dash-'));
    save(dir, results(dir, 'alpha', ['Succeeded', 'Running']));
    save(dir, results(dir, 'beta', ['Succeeded']));
    dashboard = await serveDashboard(localSource(dir), 0);
  });
  after(async () => dashboard?.close());

  it('listens on 127.0.0.1 and serves the page with every study under the directory', async () => {
    assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(dashboard.url);
    assert.equal(page.status, 200);
    const json = /<script type="application\/json" id="kubetune-data">(.*?)<\/script>/s.exec(page.body)?.[1];
    const data = JSON.parse(json ?? 'null') as ReportData;
    assert.deepEqual(
      data.studies.map((s) => [s.id, s.trials.length]),
      [
        ['alpha', 2],
        ['beta', 1],
      ],
    );
    assert.equal(data.eventsUrl, 'events');
  });

  it("serves a trial's log file, and says which trial it does not know", async () => {
    assert.deepEqual(await get(`${dashboard.url}log?study=alpha&trial=alpha-1`), {
      status: 200,
      body: 'log of alpha-1\n',
    });
    const missing = await get(`${dashboard.url}log?study=alpha&trial=alpha-9`);
    assert.deepEqual(missing, { status: 404, body: 'no trial alpha-9 in study alpha' });
  });

  it('refuses a request addressed to another host name (DNS rebinding)', async () => {
    const res = await get(dashboard.url, { host: 'attacker.example:80' });
    assert.equal(res.status, 403);
  });

  it('pushes a fresh snapshot when a results.json is rewritten', { timeout: 60_000 }, async () => {
    const finished = (d: ReportData) =>
      d.studies.find((s) => s.id === 'alpha')?.trials[1]?.state === 'Succeeded';
    let before: ReportData | undefined;
    // The rewrite happens only once the stream is open and has shown the trial running.
    const pushed = nextSnapshot(dashboard.url, finished, (d) => {
      before = d;
      save(dir, results(dir, 'alpha', ['Succeeded', 'Succeeded']));
    });
    assert.ok(finished(await pushed));
    assert.equal(before && finished(before), false);
  });
});
