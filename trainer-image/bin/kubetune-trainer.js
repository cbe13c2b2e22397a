#!/usr/bin/env node
// Runs the compiled trainer; `npm run build` (root or this package) produces dist/.
import { main } from '../dist/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error('kubetune-trainer: internal error:', err);
    process.exitCode = 1;
  },
);
