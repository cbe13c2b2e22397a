/**
 * Hands out GPU devices to local trials. Each device has `trialsPerGpu` shares, so a trial that
 * asks for one GPU takes 1/trialsPerGpu of a device, and a trial asking for k GPUs takes one
 * share on each of k distinct devices. No device ever carries more than `trialsPerGpu` trials.
 */
export class GpuAllocator {
  /** Trials holding a share of each device, in the order the devices were listed. */
  private readonly load: Map<string, number>;

  constructor(
    readonly devices: readonly string[],
    readonly trialsPerGpu: number,
  ) {
    if (!Number.isInteger(trialsPerGpu) || trialsPerGpu < 1)
      throw new Error(`trialsPerGpu must be a whole number >= 1, got ${trialsPerGpu}`);
    if (new Set(devices).size !== devices.length)
      throw new Error(`GPU devices must be distinct, got ${devices.join(',')}`);
    this.load = new Map(devices.map((d) => [d, 0]));
  }

  /** Whether a trial asking for `count` GPUs could ever start here. */
  fits(count: number): boolean {
    return count <= this.devices.length;
  }

  /**
   * Devices for a trial asking for `count` GPUs, or undefined while too few have a free share.
   * The least loaded devices are taken first (ties in listing order), so trials spread over
   * the GPUs before they share one, and the same sequence of requests gets the same devices.
   */
  take(count: number): string[] | undefined {
    if (count < 1) return [];
    const free = this.devices
      .filter((d) => this.held(d) < this.trialsPerGpu)
      .sort((a, b) => this.held(a) - this.held(b));
    if (free.length < count) return undefined;
    const taken = free.slice(0, count).sort((a, b) => this.devices.indexOf(a) - this.devices.indexOf(b));
    for (const d of taken) this.load.set(d, this.held(d) + 1);
    return taken;
  }

  /** Gives back the shares a trial took. */
  release(devices: readonly string[]): void {
    for (const d of devices) {
      const held = this.held(d);
      if (held < 1) throw new Error(`GPU ${d} released more often than it was taken`);
      this.load.set(d, held - 1);
    }
  }

  /** How many more trials asking for `count` GPUs could start now. */
  room(count: number): number {
    if (count < 1) return Infinity;
    // Each trial needs `count` distinct devices; filling the least loaded first is optimal.
    const free = this.devices.map((d) => this.trialsPerGpu - this.held(d));
    let trials = 0;
    for (;;) {
      free.sort((a, b) => b - a);
      if ((free[count - 1] ?? 0) < 1) return trials;
      for (let i = 0; i < count; i++) free[i]! -= 1;
      trials++;
    }
  }

  private held(device: string): number {
    return this.load.get(device) ?? 0;
  }
}
