// Process entry: runs main() and turns its result into an exit code. Kept apart from main.ts so
// tests and the bench can import main() without side effects, and can spawn this file with tsx.
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error('kubetune-trainer: internal error:', err);
    process.exitCode = 1;
  },
);
