import type { ReportStudy } from './model.js';

/** Where `kubetune dashboard` reads studies from: a results directory or a cluster. */
export interface StudySource {
  /** Every study as it stands now. */
  studies(): Promise<ReportStudy[]>;
  /** Calls `changed` whenever a study or trial may have changed; returns a function that stops it. */
  watch(changed: () => void): Promise<() => Promise<void>>;
  /** The end of one trial's log; throws an Error whose message the page shows. */
  log(study: string, trial: string): Promise<string>;
}

/** How much of a log the dashboard sends to the page at once. */
export const DASHBOARD_LOG_BYTES = 256 * 1024;
