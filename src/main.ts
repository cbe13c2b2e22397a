// `node dist/main.js` runs the operator, as the container image's entrypoint does.
import { main } from './cli/main.js';

process.exitCode = await main(['operator', ...process.argv.slice(2)]);
