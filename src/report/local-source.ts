import { existsSync, readdirSync, watch } from 'node:fs';
import { join, resolve } from 'node:path';
import { localStudy, readTail } from './from-local.js';
import { readResults } from './local-report.js';
import { DASHBOARD_LOG_BYTES, type StudySource } from './source.js';

/** results.json in `dir` itself, or in each of its subdirectories (kubetune-results/<study>/). */
function resultFiles(dir: string): string[] {
  const own = join(dir, 'results.json');
  if (existsSync(own)) return [own];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'results.json')))
    .map((e) => join(dir, e.name, 'results.json'))
    .sort();
}

/** Local runs under a results directory; `kubetune run` rewriting a results.json counts as a change. */
export function localSource(dir: string): StudySource {
  const root = resolve(dir);
  if (!existsSync(root)) throw new Error(`${root} does not exist`);
  const load = () => resultFiles(root).map((file) => ({ file, results: readResults(file) }));
  return {
    async studies() {
      return load().map(({ results }) =>
        localStudy(results, { withLogs: false, logUrl: `log?study=${encodeURIComponent(results.study)}` }),
      );
    },
    async watch(changed) {
      const watcher = watch(root, { recursive: true }, (_event, file) => {
        if (file && String(file).endsWith('results.json')) changed();
      });
      return async () => watcher.close();
    },
    async log(study, trial) {
      const found = load().find((r) => r.results.study === study);
      const t = found?.results.trials.find((x) => x.name === trial);
      if (!t) throw new Error(`no trial ${trial} in study ${study}`);
      const text = readTail(t.logFile, DASHBOARD_LOG_BYTES);
      if (text === undefined) throw new Error(`cannot read ${t.logFile}`);
      return text;
    },
  };
}
