import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { groupRuns } from '../../../src/local/trial-process.js';
import { BOUND_MS, requireProcfs } from './support/process-groups.js';

const stateOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
};

describe('groupRuns', () => {
  before(requireProcfs);

  it('counts a group whose only process is a zombie as gone', () => {
    const child = spawn('true', { detached: true, stdio: 'ignore' });
    const pgid = child.pid!;
    // Node reaps its children from the event loop, which this loop blocks: once `true` has
    // exited it stays a zombie, as killed background processes do until someone reaps them.
    const deadline = Date.now() + BOUND_MS;
    while (stateOf(pgid) !== 'Z') assert.ok(Date.now() < deadline, 'the child never exited');
    assert.doesNotThrow(() => process.kill(-pgid, 0), 'the zombie is still a member of its group');
    assert.equal(groupRuns(pgid), false);
  });

  it('counts a group with a live process as running', async () => {
    const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      assert.equal(groupRuns(child.pid!), true);
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
    }
    assert.equal(groupRuns(child.pid!), false);
  });
});
