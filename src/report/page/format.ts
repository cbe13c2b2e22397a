import type { ReportParameter, ReportStudy, ReportTrial } from '../model.js';

/** Okabe & Ito's palette: distinguishable with the common colour-vision deficiencies. */
export const OKABE_ITO = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442'];
/** Viridis stops: perceptually uniform and readable in greyscale, for value scales. */
export const VIRIDIS = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'];

export const hasValue = (t: ReportTrial): t is ReportTrial & { value: number } =>
  typeof t.value === 'number' && Number.isFinite(t.value);

/** Trials whose value the study counts: the ones every value-over-parameters view plots. */
export const succeeded = (s: ReportStudy): (ReportTrial & { value: number })[] =>
  s.trials.filter((t): t is ReportTrial & { value: number } => t.state === 'Succeeded' && hasValue(t));

export function better(s: ReportStudy, a: number, b: number): boolean {
  return s.goal === 'minimize' ? a < b : a > b;
}

/** Colour ramp for the objective, with the best values at the bright end. */
export function valueRamp(s: ReportStudy): string[] {
  return s.goal === 'minimize' ? [...VIRIDIS].reverse() : VIRIDIS;
}

export function formatNumber(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(5)));
}

export function durationSeconds(t: ReportTrial): number | undefined {
  if (!t.startTime || !t.completionTime) return undefined;
  const d = (Date.parse(t.completionTime) - Date.parse(t.startTime)) / 1000;
  return Number.isFinite(d) && d >= 0 ? d : undefined;
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function axisType(p: ReportParameter): 'category' | 'log' | 'value' {
  return p.type === 'categorical' ? 'category' : p.log ? 'log' : 'value';
}
