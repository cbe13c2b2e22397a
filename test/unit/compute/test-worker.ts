// A worker for pool tests: `echo` answers, `fail` reports an error, `exit` ends the thread,
// anything else (a suggestion, a pruning decision) computes forever like a runaway model fit.
import { parentPort, threadId } from 'node:worker_threads';

const port = parentPort!;
port.on('message', ({ id, task }: { id: number; task: { kind: string; value?: unknown } }) => {
  if (task.kind === 'echo') port.postMessage({ id, ok: true, value: { value: task.value, threadId } });
  else if (task.kind === 'fail') port.postMessage({ id, ok: false, error: 'the task failed' });
  else if (task.kind === 'exit') process.exit(3);
  else for (;;);
});
