#!/usr/bin/env node
// Stops the trials of a `kubetune run` that died without stopping them itself (SIGKILL, OOM
// killer, a crash in native code). Node has no PR_SET_PDEATHSIG, and trials run in process
// groups of their own, so nothing else ends them when kubetune goes.
//
//   node bin/trial-reaper.js GRACE_MS   (started by src/local/trial-reaper.ts)
//
// kubetune holds the write end of this process's stdin and sends `+PGID` when a trial's group
// starts and `-PGID` once it is gone. The kernel closes that pipe when kubetune dies, however it
// dies: at end of input every group still registered gets SIGTERM, then SIGKILL if any of it
// still runs after GRACE_MS, as kubetune itself stops a trial. Plain JavaScript with no imports
// beyond Node's, so it starts in milliseconds from dist/ and from source alike.
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const graceMs = Number(process.argv[2]);
const POLL_MS = 50;
const groups = new Set();

/** Whether a live (not zombie) process of group `pgid` is left; orphans may wait to be reaped. */
function groupRuns(pgid) {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  return readdirSync('/proc').some((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return false;
    }
    // `pid (comm) state ppid pgrp ...`, where comm may hold spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(pgrp) === pgid && state !== 'Z';
  });
}

function signal(pgid, sig) {
  try {
    process.kill(-pgid, sig);
  } catch {
    // ESRCH: the group ended meanwhile.
  }
}

async function reap() {
  for (const pgid of groups) signal(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = [...groups];
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    left = left.filter(groupRuns);
  }
  for (const pgid of left) signal(pgid, 'SIGKILL');
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
// A read error means kubetune's end of the pipe is gone as surely as end of input does.
process.stdin.on('error', () => lines.close());
lines.on('line', (line) => {
  const pgid = Number(line.slice(1));
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  if (line.startsWith('+')) groups.add(pgid);
  else if (line.startsWith('-')) groups.delete(pgid);
});
lines.on('close', () => void reap().then(() => process.exit(0)));
