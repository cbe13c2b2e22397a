#!/usr/bin/env node
// The CLI runs from the compiled output; `npm start` and `npm test` build it first.
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`kubetune: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
