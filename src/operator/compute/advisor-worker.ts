// Entry point of a compute pool worker thread: answers each advisor task with its result.
import { parentPort } from 'node:worker_threads';
import { runAdvisorTask, type AdvisorTask } from './advisor-tasks.js';
import type { WorkerReply } from './worker-pool.js';

const port = parentPort;
if (!port) throw new Error('advisor-worker runs as a worker thread of the operator');
port.on('message', ({ id, task }: { id: number; task: AdvisorTask }) => {
  runAdvisorTask(task).then(
    (value) => port.postMessage({ id, ok: true, value } satisfies WorkerReply),
    (err: unknown) =>
      port.postMessage({ id, ok: false, error: (err as Error).message ?? String(err) } satisfies WorkerReply),
  );
});
