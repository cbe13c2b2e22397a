// bin/trial-reaper.js on its own: what it does once its input ends, as when kubetune dies.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../support/run-cli.js';
import { killGroups, liveMembers, requireProcfs, waitUntil } from './support/process-groups.js';

/** A process group of a shell and its sleep, like a trial; `ignoreTerm` leaves it to SIGKILL. */
function group(ignoreTerm: boolean): number {
  const script = `${ignoreTerm ? "trap '' TERM; " : ''}sleep 300 & wait`;
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid as number;
}

describe('trial reaper', () => {
  it('at end of input stops the groups still registered, SIGKILLing those that ignore SIGTERM', async () => {
    requireProcfs();
    const [polite, stubborn, released] = [group(false), group(true), group(false)];
    const all = [polite, stubborn, released];
    try {
      await waitUntil('each group runs a shell and its sleep', () =>
        all.every((g) => liveMembers(g).length === 2),
      );
      const reaper = spawn(process.execPath, [join(REPO_ROOT, 'bin/trial-reaper.js'), '200'], {
        stdio: ['pipe', 'ignore', 'inherit'],
      });
      const exited = new Promise<number | null>((resolve) => reaper.on('exit', resolve));
      // A line may reach the reaper in pieces: split one amid its number.
      const input = `+${polite}\n+${stubborn}\n+${released}\n-${released}\n`;
      const cut = input.indexOf(`-${released}`) + 2;
      reaper.stdin.write(input.slice(0, cut));
      reaper.stdin.end(input.slice(cut));
      assert.equal(await exited, 0);
      await waitUntil('the registered groups are gone', () =>
        [polite, stubborn].every((g) => liveMembers(g).length === 0),
      );
      assert.equal(liveMembers(released).length, 2, 'a group that ended and was released is left alone');
    } finally {
      killGroups(all);
    }
  });
});
