// Picks the fastest TensorFlow.js backend that is installed. tfjs-node(-gpu) download
// libtensorflow at install time, so they exist only in the container image; locally the wasm
// backend (shipped inside its npm package) is the fast path and pure JS is the last resort.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendChoice } from './flags.js';
import { UserError } from './errors.js';
import { registerWasmConv2DBackpropFilter } from './wasm-kernels.js';

export type BackendName = Exclude<BackendChoice, 'auto'>;

/** Fastest first. */
export const BACKEND_ORDER: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

export interface BackendInfo {
  name: BackendName;
  /** tfjs's own name for it ('tensorflow', 'wasm', 'cpu'). */
  tfName: string;
}

/** Packages that are not dependencies: a variable specifier keeps TypeScript from resolving them. */
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

async function activate(name: BackendName): Promise<string> {
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      // Importing registers the 'tensorflow' backend with the tfjs-core instance we share
      // (same hoisted 4.22.0 package), and fails if the package or its native library is absent.
      await importOptional(`@tensorflow/${name}`);
      return 'tensorflow';
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // In Node the emscripten loader would look next to the calling script; point it at the
      // .wasm binaries inside the npm package instead.
      const require = createRequire(import.meta.url);
      const pkgDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
      wasm.setWasmPaths(join(pkgDir, 'dist') + '/');
      registerWasmConv2DBackpropFilter();
      return 'wasm';
    }
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      return 'cpu';
  }
}

async function tryBackend(
  name: BackendName,
): Promise<{ ok: true; tfName: string } | { ok: false; why: string }> {
  try {
    const tfName = await activate(name);
    const ok = await tf.setBackend(tfName);
    if (!ok) return { ok: false, why: `tfjs could not initialise '${tfName}'` };
    await tf.ready();
    return { ok: true, tfName };
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND')
      return { ok: false, why: 'not installed' };
    const msg = err instanceof Error ? err.message : String(err);
    return { ok: false, why: msg.split('\n')[0] ?? msg };
  }
}

/**
 * Activates the requested backend, or with 'auto' the first of BACKEND_ORDER that loads.
 * `log` receives one line per skipped candidate so a slow trial can be explained.
 */
export async function selectBackend(
  choice: BackendChoice,
  log: (line: string) => void,
): Promise<BackendInfo> {
  const candidates = choice === 'auto' ? BACKEND_ORDER : [choice];
  for (const name of candidates) {
    const result = await tryBackend(name);
    if (result.ok) return { name, tfName: result.tfName };
    if (choice !== 'auto') {
      throw new UserError(`--backend ${name} is not available here: ${result.why}`);
    }
    log(`backend ${name} skipped: ${result.why}`);
  }
  throw new Error('no TensorFlow.js backend could be initialised (not even cpu)');
}
