#!/usr/bin/env node
// The package bin: runs the compiled trainer (`npm run build` produces dist/).
import '../dist/cli.js';
