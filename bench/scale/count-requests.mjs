// Preloaded into the operator by `npm run bench:scale` (node --import): counts the operator's own
// API requests, because apiserver_request_total has no per-client label and the scale targets
// are about what the operator costs, not the Job controller, scheduler or node.
// @kubernetes/client-node sends every request, watches and log streams included, through
// node-fetch and so through http(s).request, which is where they are counted. Plain JavaScript,
// so the measured process does not also carry a TypeScript loader.
import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import { getHeapSpaceStatistics } from 'node:v8';

/** "METHOD /path?query" -> count; the bench classifies the keys (stats.ts classifyRequest). */
const counts = new Map();

function count(args) {
  const [first, second] = args;
  let method = 'GET';
  let path = '/';
  if (typeof first === 'string' || first instanceof URL) {
    const u = new URL(first);
    path = u.pathname + u.search;
    if (second && typeof second === 'object' && second.method) method = second.method;
  } else if (first && typeof first === 'object') {
    path = first.path ?? '/';
    method = first.method ?? 'GET';
  }
  const key = `${method.toUpperCase()} ${path}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

for (const mod of [http, https]) {
  const request = mod.request;
  mod.request = function countedRequest(...args) {
    count(args);
    return request.apply(this, args);
  };
}
// The operator's own log streams import { request } from 'node:https': without this, ES module
// named imports keep the unpatched function.
syncBuiltinESMExports();

// Where the operator's memory goes, at the moment its RSS peaked: this isolate's heap, buffers
// outside it, and the rest (worker threads' heaps, code, native allocations), which VmHWM alone
// cannot tell apart. Sampled, so a peak between two samples is missed; VmHWM is exact.
const MiB = 2 ** 20;
let atPeak;
const sample = setInterval(() => {
  const m = process.memoryUsage();
  if (atPeak && m.rss <= atPeak.rss) return;
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [s.space_name, +(s.space_used_size / MiB).toFixed(1)]),
  );
  atPeak = { ...m, spaces };
}, 500);
sample.unref();

function memoryAtPeak() {
  if (!atPeak) return undefined;
  const { spaces, ...m } = atPeak;
  return {
    ...Object.fromEntries(Object.entries(m).map(([k, v]) => [k, +(v / MiB).toFixed(1)])),
    spacesUsed: spaces,
  };
}

if (process.send) {
  process.on('message', (msg) => {
    if (msg === 'kubetune-bench:counts')
      process.send({ counts: Object.fromEntries(counts), memory: memoryAtPeak() });
  });
  // The channel must not keep the operator alive or change how it exits.
  process.channel?.unref();
}
