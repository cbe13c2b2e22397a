import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import { LogRequestError } from '../../../src/operator/kube/pod-logs.js';
import { isTransient, retryAfterMs } from '../../../src/operator/study/reconcile-errors.js';
import { fitText, MAX_MESSAGE } from '../../../src/operator/study/text-limits.js';

const api = (code: number, reason = '', headers: Record<string, string> = {}) =>
  new ApiException(code, `HTTP-Code: ${code}`, JSON.stringify({ kind: 'Status', code, reason }), headers);

describe('reconcile error classes', () => {
  it('retries server errors, rate limits, conflicts and broken connections, never rejections', () => {
    for (const err of [
      api(500),
      api(503),
      api(504),
      api(429),
      api(409, 'Conflict'),
      api(404, 'NotFound'),
      new LogRequestError(503, 'unavailable'),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      Object.assign(new Error('request to https://x failed'), { cause: { code: 'ECONNREFUSED' } }),
      Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }),
      new Error('socket hang up'),
    ])
      assert.equal(isTransient(err), true, String(err));
    for (const err of [
      api(400),
      api(403, 'Forbidden'),
      api(422, 'Invalid'),
      api(409, 'AlreadyExists'),
      new LogRequestError(400, 'container is not valid for pod'),
      new TypeError("Cannot read properties of undefined (reading 'x')"),
    ])
      assert.equal(isTransient(err), false, String(err));
  });

  it('reads Retry-After in seconds or as an HTTP date, only for 429 and 503', () => {
    assert.equal(retryAfterMs(api(429, '', { 'retry-after': '2' })), 2000);
    assert.equal(retryAfterMs(api(503, '', { 'Retry-After': '0' })), 0);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs(api(429, '', { 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now), 5000);
    assert.equal(retryAfterMs(api(429)), undefined);
    assert.equal(retryAfterMs(api(429, '', { 'retry-after': 'soon' })), undefined);
    assert.equal(retryAfterMs(api(500, '', { 'retry-after': '2' })), undefined);
  });
});

describe('message limits', () => {
  it('keeps short text and cuts long text to the limit, saying how much was left out', () => {
    assert.equal(fitText('short', 10), 'short');
    const long = 'x'.repeat(40_000);
    const cut = fitText(long, MAX_MESSAGE);
    assert.ok(Array.from(cut).length <= MAX_MESSAGE);
    const left = Number(/… \((\d+) more characters\)$/.exec(cut)?.[1]);
    assert.equal(cut.length - `… (${left} more characters)`.length + left, long.length);
  });

  it('counts characters as the apiserver does and never splits a surrogate pair', () => {
    const emoji = '😀'.repeat(30);
    assert.equal(
      fitText(emoji, 30),
      emoji,
      'thirty characters fit in thirty, though they are 60 UTF-16 units',
    );
    const cut = fitText(emoji, 25);
    assert.ok(Array.from(cut).length <= 25);
    assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(cut), 'a lone high surrogate was left');
    assert.ok(cut.startsWith('😀'));
  });
});
