import { execFile } from 'node:child_process';

/** The GPUs the local runner may hand out, and where that list came from (for messages). */
export interface GpuDevices {
  ids: string[];
  source: string;
  /** `--gpus none`: trials that ask for GPUs run without one instead of failing. */
  none?: boolean;
}

/** Which runtime a trial's GPU resource belongs to: it decides the variables that select devices. */
export type GpuVendor = 'nvidia' | 'amd';

export function gpuVendor(resources: readonly string[]): GpuVendor {
  return resources.some((r) => r.startsWith('amd.com/')) ? 'amd' : 'nvidia';
}

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** `0,1,3`: GPU indices or UUIDs, distinct; empty for none. */
export function parseGpuList(raw: string, what: string): string[] {
  const trimmed = raw.trim();
  if (trimmed === '') return [];
  const ids = trimmed.split(',').map((s) => s.trim());
  for (const id of ids) {
    if (!DEVICE_ID.test(id))
      throw new Error(
        `${what}: ${JSON.stringify(id)} is not a device; expected a comma-separated list of GPU indices or UUIDs (e.g. 0,1,3), or none`,
      );
  }
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined) throw new Error(`${what}: device ${dup} is listed twice`);
  return ids;
}

/** `GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-…)` lines of `nvidia-smi -L`; MIG lines are indented. */
export function parseNvidiaSmiList(output: string): string[] {
  return [...output.matchAll(/^GPU (\d+):/gm)].map((m) => m[1] as string);
}

function run(command: string, args: string[]): Promise<{ ok: boolean; stdout: string; error?: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 15_000 }, (err, stdout) => {
      if (!err) resolve({ ok: true, stdout });
      else if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        resolve({ ok: false, stdout: '', error: 'not found' });
      else resolve({ ok: false, stdout: '', error: err.message.split('\n')[0] ?? 'failed' });
    });
  });
}

/**
 * The machine's GPUs for this run, first found of: `--gpus`, the vendor's visible-devices
 * variable kubetune itself runs under (a slice someone already gave it), `nvidia-smi -L`.
 */
export async function detectGpus(
  vendor: GpuVendor,
  opts: { flag?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<GpuDevices> {
  if (opts.flag?.trim() === 'none') return { ids: [], source: '--gpus none', none: true };
  if (opts.flag !== undefined) return { ids: parseGpuList(opts.flag, '--gpus'), source: '--gpus' };
  const env = opts.env ?? process.env;
  const vars = vendor === 'amd' ? ['ROCR_VISIBLE_DEVICES', 'HIP_VISIBLE_DEVICES'] : ['CUDA_VISIBLE_DEVICES'];
  for (const name of vars) {
    const value = env[name];
    if (value !== undefined) return { ids: parseGpuList(value, name), source: name };
  }
  if (vendor === 'amd') return { ids: [], source: 'no --gpus, ROCR_VISIBLE_DEVICES or HIP_VISIBLE_DEVICES' };
  const smi = await run('nvidia-smi', ['-L']);
  if (!smi.ok) return { ids: [], source: `nvidia-smi -L (${smi.error})` };
  return { ids: parseNvidiaSmiList(smi.stdout), source: 'nvidia-smi -L' };
}

/**
 * The variables that show a trial exactly `devices`. CUDA numbers devices fastest first unless
 * told otherwise, while nvidia-smi numbers them by PCI bus: PCI_BUS_ID makes the indices agree.
 * ROCm applies ROCR_VISIBLE_DEVICES first and HIP_VISIBLE_DEVICES within what it left, so HIP's
 * list counts from 0 rather than repeating the physical ids.
 */
export function visibleDevicesEnv(vendor: GpuVendor, devices: readonly string[]): Record<string, string> {
  if (vendor === 'amd')
    return {
      ROCR_VISIBLE_DEVICES: devices.join(','),
      HIP_VISIBLE_DEVICES: devices.map((_, i) => i).join(','),
    };
  return { CUDA_VISIBLE_DEVICES: devices.join(','), CUDA_DEVICE_ORDER: 'PCI_BUS_ID' };
}
