// client-node 1.4 throws ApiException with the HTTP status in `.code` and the response body as
// a string (usually a JSON metav1.Status). Watches reject with a plain Error carrying
// `.statusCode` instead, so both spellings are accepted.

interface Status {
  message?: string;
  reason?: string;
  code?: number;
}

export function statusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

/** The metav1.Status in an ApiException body, whether it arrived as a string or an object. */
export function statusOf(err: unknown): Status | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const body = (err as { body?: unknown }).body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const s = parsed as Record<string, unknown>;
  return {
    message: typeof s.message === 'string' ? s.message : undefined,
    reason: typeof s.reason === 'string' ? s.reason : undefined,
    code: typeof s.code === 'number' ? s.code : undefined,
  };
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isConflict = (err: unknown): boolean =>
  statusCode(err) === 409 && statusOf(err)?.reason !== 'AlreadyExists';
// Both "already exists" and "conflict" are HTTP 409; only the Status reason tells them apart.
export const isAlreadyExists = (err: unknown): boolean =>
  statusCode(err) === 409 && statusOf(err)?.reason === 'AlreadyExists';
export const isGone = (err: unknown): boolean => statusCode(err) === 410;

/**
 * A one-line description. ApiException's own message embeds the whole body and response
 * headers, which is too noisy for logs and conditions.
 */
export function errorMessage(err: unknown): string {
  const code = statusCode(err);
  const status = statusOf(err);
  if (code !== undefined && status?.message) return `HTTP ${code}: ${status.message}`;
  if (code !== undefined && typeof (err as { body?: unknown }).body === 'string') {
    const body = ((err as { body: string }).body || '').trim();
    if (body) return `HTTP ${code}: ${body.length > 300 ? `${body.slice(0, 300)}…` : body}`;
  }
  if (err instanceof Error) {
    // ApiException's message is "HTTP-Code: N\nMessage: M\nBody: ...\nHeaders: ...".
    const m = /^HTTP-Code: (\d+)\nMessage: ([^\n]*)/.exec(err.message);
    if (m) return `HTTP ${m[1]}: ${m[2]}`;
    const firstLine = err.message.split('\n', 1)[0] ?? '';
    return code !== undefined && !firstLine.includes(String(code)) ? `HTTP ${code}: ${firstLine}` : firstLine;
  }
  return String(err);
}
