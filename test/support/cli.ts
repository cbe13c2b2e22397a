// Runs the kubetune CLI from source (no build needed) so CLI tests see the current code.
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
