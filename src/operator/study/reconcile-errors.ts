import { LogRequestError } from '../kube/pod-logs.js';
import { isAlreadyExists, statusCode } from '../runtime/kube-errors.js';

/**
 * A problem that retrying cannot fix (a Job the apiserver rejects, a history the spec no longer
 * fits): the reconciler records it on the Study as a condition and an Event instead of failing
 * the reconcile over and over where nobody looks.
 */
export class StudyProblem extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const NETWORK_NAMES = new Set(['AbortError', 'TimeoutError', 'FetchError']);

/** The HTTP status of an API error, including a pods/log request's. */
export function httpStatus(err: unknown): number | undefined {
  return err instanceof LogRequestError ? err.status : statusCode(err);
}

function isNetworkError(err: unknown): boolean {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (typeof name === 'string' && NETWORK_NAMES.has(name)) return true;
    if (typeof message === 'string' && /socket hang up|log stream aborted|network timeout/i.test(message))
      return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Errors that say nothing about the request and may not happen again: server errors, rate
 * limits, timeouts, broken connections, and conflicts/not-found that mean the objects changed
 * since they were read (re-read and decide again). They are retried with backoff and never
 * decide a trial's outcome.
 */
export function isTransient(err: unknown): boolean {
  const code = httpStatus(err);
  if (code === undefined) return isNetworkError(err);
  if (code === 409) return !isAlreadyExists(err);
  return code >= 500 || code === 429 || code === 408 || code === 404;
}

/** The wait a 429 or 503 asked for with Retry-After (seconds or an HTTP date), in ms. */
export function retryAfterMs(err: unknown, now = Date.now()): number | undefined {
  const code = httpStatus(err);
  if (code !== 429 && code !== 503) return undefined;
  const headers = (err as { headers?: Record<string, string> }).headers ?? {};
  const raw = Object.entries(headers).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
