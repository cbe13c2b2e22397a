// How long the event loop has recently been kept from running. A loop that is blocked cannot
// answer the liveness probe at all, which the kubelet already counts as a failure; this catches
// the loop that still answers now and then but stalls for seconds between (informers, lease
// renewals and reconciles all starve while it does).
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface EventLoopLagOptions {
  /** A stall is reported for at least this long after it ends, at most twice as long. Default 10 s. */
  windowMs?: number;
  /** Sampling interval of the delay histogram. Default 20 ms. */
  resolutionMs?: number;
}

export class EventLoopLag {
  private readonly histogram: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private previousMaxNs = 0;

  constructor(opts: EventLoopLagOptions = {}) {
    this.histogram = monitorEventLoopDelay({ resolution: opts.resolutionMs ?? 20 });
    this.histogram.enable();
    this.timer = setInterval(() => this.rotate(), opts.windowMs ?? 10_000).unref();
  }

  /** The longest delay in the current and the previous window, in seconds. */
  seconds(): number {
    return Math.max(this.previousMaxNs, this.histogram.max) / 1e9;
  }

  /**
   * For a health check: true, or why the loop is too slow. The histogram samples in the loop's
   * timers phase, and a probe's request may be handled in the I/O phase just after a stall and
   * before that; waiting for one timer turn lets the sample of the stall in first (libuv runs
   * due timers in the order they fell due).
   */
  async verdict(limitSeconds: number): Promise<true | string> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    const lag = this.seconds();
    return lag > limitSeconds ? `event loop stalled for ${lag.toFixed(2)} s (limit ${limitSeconds} s)` : true;
  }

  /** Starts a new window; the timer calls it every windowMs. */
  rotate(): void {
    this.previousMaxNs = this.histogram.max;
    this.histogram.reset();
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}
