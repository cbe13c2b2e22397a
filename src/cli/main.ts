import { readFileSync } from 'node:fs';
import { runCommand } from './run-command.js';
import { UserError } from './load-study.js';
import { validateCommand } from './validate-command.js';
import { operatorCommand } from './operator-command.js';
import { statusCommand, trialsCommand } from './cluster-read-commands.js';
import { reportCommand } from './report-command.js';
import { dashboardCommand } from './dashboard-command.js';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  run: { run: runCommand, help: 'run a study on this machine, trials as local processes' },
  validate: { run: validateCommand, help: 'check Study manifests and print precise errors' },
  operator: { run: operatorCommand, help: 'run the operator against a cluster (kubeconfig or in-cluster)' },
  status: { run: statusCommand, help: "show a cluster study's status and best trial" },
  trials: { run: trialsCommand, help: "list a cluster study's trials" },
  report: { run: reportCommand, help: "write a local run's report.html from its results.json" },
  dashboard: {
    run: dashboardCommand,
    help: 'serve study reports on localhost: cluster studies live, or local runs',
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.help}`);
  return `usage: kubetune COMMAND [options]\n\ncommands:\n${lines.join('\n')}\n  version    print the version`;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Exit code for the process; user errors are printed without a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === 'version' || name === '--version') {
    console.log(version());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`kubetune: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UserError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`kubetune ${name}: ${(err as Error).message}`);
      return 2;
    }
    throw err;
  }
}
