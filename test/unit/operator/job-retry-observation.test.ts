import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { observeJob } from '../../../src/operator/trials/job-observation.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const job: V1Job = { metadata: { name: 'j', uid: 'u', creationTimestamp: at(0) }, status: {} };

function pod(name: string, created: number, phase: string, status: Record<string, unknown> = {}): V1Pod {
  return { metadata: { name, creationTimestamp: at(created) }, status: { phase, ...status } } as V1Pod;
}
const failedAttempt = pod('j-1', 1, 'Failed', {
  containerStatuses: [
    { name: 't', state: { terminated: { exitCode: 1, startedAt: at(2), finishedAt: at(900) } } },
  ],
});

describe('job observation across Job retries (backoffLimit > 0)', () => {
  it('follows the retry pod, not the first one', () => {
    const obs = observeJob(job, [failedAttempt, pod('j-2', 910, 'Running', { startTime: at(911) })]);
    assert.equal(obs.phase, 'Running');
    assert.equal(obs.phase === 'Running' && obs.pod.metadata?.name, 'j-2');
    assert.deepEqual(obs.phase === 'Running' && obs.startedAt, at(911));
  });

  it("measures pending time from the current pod's creation, not the Job's", () => {
    const obs = observeJob(job, [failedAttempt, pod('j-2', 910, 'Pending')]);
    assert.deepEqual(obs.phase === 'Pending' && obs.since, at(910));
  });

  it('between attempts (retry back-off), measures from the end of the failed attempt', () => {
    const obs = observeJob(job, [failedAttempt]);
    assert.deepEqual(obs.phase === 'Pending' && obs.since, at(900));
  });

  it('without any pod yet, measures from the Job', () => {
    const obs = observeJob(job, []);
    assert.deepEqual(obs.phase === 'Pending' && obs.since, at(0));
  });
});
