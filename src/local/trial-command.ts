import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TemplateContainer } from '../api/trial-template.js';
import type { ProcessSpec } from './trial-process.js';

/** Images whose entrypoint kubetune knows how to run without a container runtime. */
export const LOCAL_ENTRYPOINTS: Record<string, string[]> = {
  'ghcr.io/kubetune/trainer': ['kubetune-trainer'],
};

function imageRepository(image: string): string {
  const noDigest = image.split('@')[0] as string;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > lastSlash ? noDigest.slice(0, colon) : noDigest;
}

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** PATH with kubetune's own node_modules/.bin first, so `kubetune-trainer` resolves locally. */
function localPath(cwd: string): string {
  const bins = [join(cwd, 'node_modules', '.bin'), join(packageRoot, 'node_modules', '.bin')].filter(
    existsSync,
  );
  return [...new Set(bins), process.env['PATH'] ?? ''].join(delimiter);
}

export interface LocalTrialEnv {
  study: string;
  trial: string;
  index: number;
  cwd: string;
  /** Where the trial may keep checkpoints; survives the trial, for a resumed one to continue. */
  checkpointDir?: string;
}

/**
 * The process a container would run: its command and args, or the image's known entrypoint
 * followed by args, as a container runtime would do it.
 */
export function processForContainer(container: TemplateContainer, t: LocalTrialEnv): ProcessSpec {
  let argv: string[];
  if (container.command && container.command.length > 0) {
    argv = [...container.command, ...(container.args ?? [])];
  } else {
    const entry = container.image ? LOCAL_ENTRYPOINTS[imageRepository(container.image)] : undefined;
    if (!entry) {
      throw new Error(
        `container ${container.name} has no command, and its image ${container.image ?? '(none)'} has no known local entrypoint; ` +
          `set command in the trial template (known images: ${Object.keys(LOCAL_ENTRYPOINTS).join(', ')})`,
      );
    }
    argv = [...entry, ...(container.args ?? [])];
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: localPath(t.cwd),
    KUBETUNE_STUDY: t.study,
    KUBETUNE_TRIAL: t.trial,
    KUBETUNE_TRIAL_INDEX: String(t.index),
    ...(t.checkpointDir === undefined ? {} : { KUBETUNE_CHECKPOINT_DIR: t.checkpointDir }),
  };
  for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  const cwd = container.workingDir ? resolve(t.cwd, container.workingDir) : t.cwd;
  return { command: argv[0] as string, args: argv.slice(1), env, cwd };
}
