// Turns what `npm run bench:scale` measured into its result (also written as JSON with --json,
// so two runs can be compared) and prints it as tables.
import type { MemoryAtPeak, Snapshot } from './harness.js';
import type { Observer, TrialTimes } from './observe.js';
import {
  counterDelta,
  isList,
  isWrite,
  median,
  perTrial,
  quantile,
  refillPairs,
  sumWhere,
  type Counters,
} from './stats.js';

export interface Phase {
  snap: Snapshot;
  operatorRequests: Counters;
  proc: { cpuSeconds: number; hwmMiB: number };
  memoryAtPeak: MemoryAtPeak | undefined;
}

export interface Inputs {
  config: Record<string, number | string> & { parallelism: number };
  /** The checkout the operator was built from, "+dirty" with uncommitted changes. */
  commit: string;
  load: number[];
  observer: Observer;
  mainStudies: string[];
  /** Extra study -> local time its create was sent. */
  extraApplied: Map<string, number>;
  runningAtApply: number;
  reachedRunning: boolean;
  finished: boolean;
  phases: { start: Phase; end: Phase; idleStart: Phase; idle: Phase };
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));
const perTrialTable = (c: Counters, trials: number) =>
  Object.fromEntries([...c].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(perTrial(v, trials))]));
const perMinute = (c: Counters, ms: number, keep: (key: string) => boolean = () => true) =>
  Object.fromEntries([...c].filter(([k]) => keep(k)).map(([k, v]) => [k, round((v * 60_000) / ms)]));

/**
 * Slot refill (a trial's end, first seen on its pod, Job or Trial -> its study's next Job), and
 * where that time goes: when the Job controller's verdict and the operator's were seen, counted
 * from the same start, and how long the new Job then took to run its pod (not part of refill).
 */
function refill(inp: Inputs) {
  const finishes = new Map<string, { trial: string; at: number }[]>();
  for (const [trial, { study, at }] of inp.observer.trialFinished) {
    finishes.set(study, [...(finishes.get(study) ?? []), { trial, at }]);
  }
  const pairs = inp.mainStudies.flatMap((s) =>
    refillPairs(finishes.get(s) ?? [], inp.observer.jobsCreated.get(s) ?? [], inp.config.parallelism),
  );
  const times = (trial: string): TrialTimes => inp.observer.times.get(trial) ?? {};
  const since = (step: keyof TrialTimes) =>
    stage(pairs.map((p) => (times(p.finish.trial)[step] ?? NaN) - p.finish.at));
  const ms = pairs.map((p) => p.job.at - p.finish.at);
  return {
    refills: ms.length,
    medianMs: round(median(ms), 0),
    p95Ms: round(quantile(ms, 0.95), 0),
    breakdown: {
      podDone: since('podDone'),
      jobDone: since('jobDone'),
      trialDone: since('trialDone'),
      nextJob: stage(ms),
      nextPodRunning: stage(pairs.map((p) => (times(p.job.trial).podRunning ?? NaN) - p.job.at)),
    },
  };
}

function stage(ms: number[]) {
  const seen = ms.filter((x) => !Number.isNaN(x));
  return { n: seen.length, medianMs: round(median(seen), 0), p95Ms: round(quantile(seen, 0.95), 0) };
}

function applyToFirstJob(inp: Inputs) {
  const ms = [...inp.extraApplied].map(([s, at]) => (inp.observer.jobsCreated.get(s)?.[0]?.at ?? NaN) - at);
  return {
    runningAtApply: inp.runningAtApply,
    ms: ms.map((x) => round(x, 0)),
    medianMs: round(median(ms), 0),
  };
}

export function buildResult(inp: Inputs) {
  const { start, end, idleStart, idle } = inp.phases;
  const states = new Map<string, number>();
  for (const s of inp.observer.trialsTerminal.values()) states.set(s, (states.get(s) ?? 0) + 1);
  const trials = inp.observer.trialsTerminal.size;
  const api = counterDelta(start.snap.requests, end.snap.requests);
  const ops = counterDelta(start.operatorRequests, end.operatorRequests);
  const idleMs = idle.snap.at - idleStart.snap.at;
  const idleApi = counterDelta(idleStart.snap.requests, idle.snap.requests);
  const idleOps = counterDelta(idleStart.operatorRequests, idle.operatorRequests);
  return {
    config: inp.config,
    commit: inp.commit,
    loadAvg1m: { atStart: inp.load[0], atEnd: inp.load[1] },
    completedTrials: trials,
    trialStates: Object.fromEntries(states),
    reachedRunning: inp.reachedRunning,
    peakRunningPods: inp.observer.peakRunning,
    allStudiesFinished: inp.finished,
    studiesFinished: inp.observer.studiesFinished.size,
    wallSeconds: round((end.snap.at - start.snap.at) / 1000, 1),
    watchRestarts: inp.observer.watchRestarts,
    writesPerTrial: {
      apiserver: round(perTrial(sumWhere(api, isWrite), trials)),
      operator: round(perTrial(sumWhere(ops, isWrite), trials)),
    },
    requestsPerTrial: { apiserver: perTrialTable(api, trials), operator: perTrialTable(ops, trials) },
    idle: {
      seconds: round(idleMs / 1000, 1),
      listsPerMinute: {
        apiserver: perMinute(idleApi, idleMs, isList),
        operator: perMinute(idleOps, idleMs, isList),
      },
      // Everything else finished Studies still cost, e.g. status writes a resync triggers.
      operatorRequestsPerMinute: perMinute(idleOps, idleMs),
    },
    operator: {
      cpuSecondsPerTrial: round(perTrial(end.proc.cpuSeconds - start.proc.cpuSeconds, trials), 3),
      cpuSeconds: round(end.proc.cpuSeconds - start.proc.cpuSeconds, 1),
      peakRssMiB: round(idle.proc.hwmMiB, 0),
      memoryAtPeak: idle.memoryAtPeak,
    },
    etcd: {
      growthMiB: round((end.snap.etcdBytes - start.snap.etcdBytes) / 2 ** 20, 1),
      growthKiBPerTrial: round(perTrial((end.snap.etcdBytes - start.snap.etcdBytes) / 1024, trials), 1),
      inUseGrowthMiB: round((end.snap.etcdInUseBytes - start.snap.etcdInUseBytes) / 2 ** 20, 1),
      inUseGrowthKiBPerTrial: round(
        perTrial((end.snap.etcdInUseBytes - start.snap.etcdInUseBytes) / 1024, trials),
        1,
      ),
    },
    slotRefill: refill(inp),
    applyToFirstJob: applyToFirstJob(inp),
  };
}

export type Result = ReturnType<typeof buildResult>;

function table(title: string, head: string[], rows: (string | number)[][]): void {
  console.log(`\n${title}`);
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

/** One row per "VERB resource", the apiserver's count beside the operator's own. */
function requestRows(apiserver: Record<string, number>, operator: Record<string, number>) {
  const keys = [...new Set([...Object.keys(apiserver), ...Object.keys(operator)])];
  keys.sort((a, b) => (apiserver[b] ?? 0) - (apiserver[a] ?? 0) || a.localeCompare(b));
  // Rows that round to zero per trial (watches the apiserver ended, a node heartbeat) stay in the JSON only.
  return keys
    .filter((k) => (apiserver[k] ?? 0) !== 0 || (operator[k] ?? 0) !== 0)
    .map((k) => [k, apiserver[k] ?? 0, operator[k] ?? 0, isWrite(k) ? 'write' : '']);
}

export function printReport(r: Result): void {
  // After a timeout the "idle" window still has running studies in it: say so where it is read.
  const after = r.allStudiesFinished
    ? 'after all studies finished'
    : `after the timeout, ${r.studiesFinished} studies finished and the rest STILL RUNNING`;
  const c = r.config;
  console.log(
    `\noperator from ${r.commit}: ${r.completedTrials} trials completed (${JSON.stringify(r.trialStates)}) in ${r.wallSeconds} s: ` +
      `${c.studies} studies x ${c.trialsPerStudy} trials, parallelism ${c.parallelism}, ${c.trialSeconds} s trials, ` +
      `peak ${r.peakRunningPods} pods running; load ${r.loadAvg1m.atStart?.toFixed(1)} -> ${r.loadAvg1m.atEnd?.toFixed(1)} on ${c.nproc} CPUs` +
      (r.allStudiesFinished ? '' : `; TIMED OUT with ${r.studiesFinished} studies finished`),
  );
  const refillTarget = r.slotRefill;
  table(
    'Summary',
    ['metric', 'value', 'target (#13)'],
    [
      [
        'API writes per completed trial, apiserver (all clients, pods/log excluded)',
        r.writesPerTrial.apiserver,
        '',
      ],
      ['API writes per completed trial, operator only', r.writesPerTrial.operator, '<= 15'],
      [
        `LISTs per minute ${after} (operator, ${r.idle.seconds} s window)`,
        sum(r.idle.listsPerMinute.operator),
        '0',
      ],
      [`LISTs per minute ${after} (apiserver, all clients)`, sum(r.idle.listsPerMinute.apiserver), ''],
      ['operator CPU-seconds per trial', r.operator.cpuSecondsPerTrial, ''],
      ['operator peak RSS (VmHWM)', `${r.operator.peakRssMiB} MiB`, '< 300 MiB'],
      [
        'etcd growth per trial: in use (db file)',
        `${r.etcd.inUseGrowthKiBPerTrial} KiB (${r.etcd.growthKiBPerTrial} KiB); ${r.etcd.inUseGrowthMiB} MiB (${r.etcd.growthMiB} MiB) in all`,
        '',
      ],
      [`slot refill, median (${refillTarget.refills} refills)`, `${refillTarget.medianMs} ms`, '< 1000 ms'],
      ['slot refill, p95', `${refillTarget.p95Ms} ms`, '< 3000 ms'],
      [
        `apply -> first Job, ${r.applyToFirstJob.ms.length} studies applied at ${r.applyToFirstJob.runningAtApply} running pods, median`,
        `${r.applyToFirstJob.medianMs} ms (${r.applyToFirstJob.ms.join(', ')})`,
        '',
      ],
    ],
  );
  const b = r.slotRefill.breakdown;
  table(
    'Slot refill, step by step (ms after the trial was first seen finished)',
    ['seen', 'median', 'p95', 'refills'],
    [
      ['pod Succeeded/Failed (node)', b.podDone.medianMs, b.podDone.p95Ms, b.podDone.n],
      ['Job Complete/Failed (Job controller)', b.jobDone.medianMs, b.jobDone.p95Ms, b.jobDone.n],
      ['Trial terminal (operator)', b.trialDone.medianMs, b.trialDone.p95Ms, b.trialDone.n],
      ["study's next Job (operator) = slot refill", b.nextJob.medianMs, b.nextJob.p95Ms, b.nextJob.n],
      [
        'then: next Job -> its pod Running',
        b.nextPodRunning.medianMs,
        b.nextPodRunning.p95Ms,
        b.nextPodRunning.n,
      ],
    ],
  );
  const mem = r.operator.memoryAtPeak;
  if (mem) {
    const { spacesUsed, ...usage } = mem;
    table(
      `Operator memory when its RSS peaked (MiB, sampled every 0.5 s; VmHWM ${r.operator.peakRssMiB} MiB)`,
      ['part', 'MiB'],
      [
        ...Object.entries(usage).map(([k, v]) => [k, v]),
        ...Object.entries(spacesUsed).map(([k, v]) => [`heap used: ${k}`, v]),
      ],
    );
  }
  table(
    'API requests per completed trial',
    ['verb resource', 'apiserver (all clients)', 'operator', ''],
    requestRows(r.requestsPerTrial.apiserver, r.requestsPerTrial.operator),
  );
  table(
    `LISTs per minute ${after} (${r.idle.seconds} s window)`,
    ['verb resource', 'apiserver (all clients)', 'operator'],
    requestRows(r.idle.listsPerMinute.apiserver, r.idle.listsPerMinute.operator).map((row) =>
      row.slice(0, 3),
    ),
  );
  table(
    `Operator requests per minute ${after}, all verbs`,
    ['verb resource', 'operator'],
    Object.entries(r.idle.operatorRequestsPerMinute).map(([k, v]) => [k, v]),
  );
}

const sum = (o: Record<string, number>) => round(Object.values(o).reduce((a, b) => a + b, 0));
