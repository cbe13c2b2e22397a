import { SettingsError } from './sampler.js';

type Settings = Readonly<Record<string, unknown>>;

interface NumberRule {
  default: number;
  min?: number;
  max?: number;
  integer?: boolean;
  /** Why `max` is where it is, when a user would otherwise take it for arbitrary. */
  maxReason?: string;
}

/** The reason given for maxima that keep one suggestion inside the operator's time budget. */
export const WITHIN_BUDGET =
  "larger values make one suggestion outlast the operator's suggestion time budget (5 s by default)";

/**
 * Typed readers for free-form `settings` maps. Each error names the full field path and what is
 * allowed, because these maps bypass the CRD schema.
 */
export class SettingsReader {
  private readonly seen = new Set<string>();

  constructor(
    private readonly settings: Settings,
    private readonly prefix: string,
  ) {}

  number(key: string, rule: NumberRule): number {
    this.seen.add(key);
    const raw = this.settings[key];
    if (raw === undefined) return rule.default;
    const path = `${this.prefix}.${key}`;
    if (typeof raw !== 'number' || !Number.isFinite(raw))
      throw new SettingsError(path, `expected a number, got ${JSON.stringify(raw)}`);
    if (rule.integer && !Number.isInteger(raw))
      throw new SettingsError(path, `expected a whole number, got ${raw}`);
    if (rule.min !== undefined && raw < rule.min)
      throw new SettingsError(path, `must be >= ${rule.min}, got ${raw}`);
    if (rule.max !== undefined && raw > rule.max) {
      const why = rule.maxReason ? ` (${rule.maxReason})` : '';
      throw new SettingsError(path, `must be <= ${rule.max}${why}, got ${raw}`);
    }
    return raw;
  }

  boolean(key: string, fallback: boolean): boolean {
    this.seen.add(key);
    const raw = this.settings[key];
    if (raw === undefined) return fallback;
    if (typeof raw !== 'boolean')
      throw new SettingsError(`${this.prefix}.${key}`, `expected true or false, got ${JSON.stringify(raw)}`);
    return raw;
  }

  choice<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    this.seen.add(key);
    const raw = this.settings[key];
    if (raw === undefined) return fallback;
    if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
      throw new SettingsError(
        `${this.prefix}.${key}`,
        `invalid value ${JSON.stringify(raw)}; allowed: ${allowed.join(', ')}`,
      );
    }
    return raw as T;
  }

  /** Call after reading every key: a typo in a settings map must not be silently ignored. */
  rejectUnknown(): void {
    const unknown = Object.keys(this.settings).filter((k) => !this.seen.has(k));
    if (unknown.length > 0) {
      const known = [...this.seen].join(', ') || 'none';
      throw new SettingsError(
        `${this.prefix}.${unknown[0]}`,
        `unknown setting; this algorithm takes: ${known}`,
      );
    }
  }
}
