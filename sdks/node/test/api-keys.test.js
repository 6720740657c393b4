// The verify endpoint's answers, read: one test per code, and how long each may be reused.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { basicAuthorization, isPlausible, Rejection, verdict } from '../src/api-keys.js';
import { Caller, InvalidTokenError, RateLimitedError, UnavailableError } from '../src/index.js';

const NOW = 1_700_000_000;
const TTLS = { positiveTtl: 30, negativeTtl: 5, now: NOW };
const VALID = { valid: true, code: 'VALID', key_id: 'gpk_id', name: 'integration key', scopes: ['nql'], groups: ['emea'] };

test('VALID is the key as caller, reused for the positive TTL', () => {
  const { outcome, ttl } = verdict({ ...VALID, owner: { email: 'dev@example.com' } }, TTLS);
  assert.ok(outcome instanceof Caller);
  assert.deepEqual(outcome.toJSON(), {
    subject: 'gpk_id',
    kind: 'api_key',
    permissions: ['nql'],
    groups: ['emea'],
    name: 'integration key',
    owner: 'dev@example.com',
    expiresAt: null,
  });
  assert.equal(ttl, 30);
});

test('a key expiring sooner than the TTL is reused until it expires only', () => {
  const { outcome, ttl } = verdict({ ...VALID, expires_at: NOW + 7 }, TTLS);
  assert.equal(/** @type {Caller} */ (outcome).expiresAt, NOW + 7);
  assert.equal(ttl, 7);
});

test('a key with a rate limit is never reused: Gatepass counts each use', () => {
  assert.equal(verdict({ ...VALID, rate_limit: { limit: 5, remaining: 4, reset: NOW + 60 } }, TTLS).ttl, 0);
});

test('valid without the VALID code, or VALID not valid, is a refusal', () => {
  assert.ok(verdict({ ...VALID, valid: false }, TTLS).outcome instanceof Rejection);
  assert.ok(verdict({ ...VALID, code: 'REVOKED' }, TTLS).outcome instanceof Rejection);
});

test('an incomplete VALID answer is Gatepass failing, not a verdict', () => {
  assert.throws(() => verdict({ valid: true, code: 'VALID', key_id: 'k', scopes: ['nql'] }, TTLS), UnavailableError);
});

test('each refusal code is invalid_token, reused for the negative TTL', () => {
  for (const code of ['NOT_FOUND', 'REVOKED', 'EXPIRED', 'DISABLED', 'SOMETHING_NEW']) {
    const { outcome, ttl } = verdict({ valid: false, code }, TTLS);
    assert.ok(outcome instanceof Rejection);
    const error = outcome.error(NOW);
    assert.ok(error instanceof InvalidTokenError);
    assert.equal(error.reason, code);
    assert.equal(ttl, 5);
  }
});

test('RATE_LIMITED is a 429 until the reset, reused no longer than that', () => {
  const { outcome, ttl } = verdict({ valid: false, code: 'RATE_LIMITED', rate_limit: { reset: NOW + 2.5 } }, TTLS);
  assert.equal(ttl, 2.5);
  const error = /** @type {Rejection} */ (outcome).error(NOW);
  assert.ok(error instanceof RateLimitedError);
  assert.equal(error.retryAfter, 3);
  assert.equal(verdict({ valid: false, code: 'RATE_LIMITED' }, TTLS).ttl, 1); // no reset: a second
});

test('a key is short, printable ASCII', () => {
  assert.equal(isPlausible('gpk_' + 'A'.repeat(38)), true);
  for (const key of ['', 'x'.repeat(257), 'gpk_\u00e9t\u00e9', 'gpk_\n', 'gpk_\u007f']) {
    assert.equal(isPlausible(key), false, JSON.stringify(key));
  }
});

test('the verify client authenticates with client_secret_basic, form-urlencoded first', () => {
  assert.equal(basicAuthorization('platform-api', 'gpcs_s3cret'), `Basic ${btoa('platform-api:gpcs_s3cret')}`);
  assert.equal(basicAuthorization('a b', 'x:y/+'), `Basic ${btoa('a+b:x%3Ay%2F%2B')}`);
});

test('an answer that depends on the caller address is never reused', () => {
  assert.equal(verdict({ ...VALID, allowed_ips: ['203.0.113.0/24'] }, TTLS).ttl, 0);
  assert.equal(verdict({ ...VALID, allowed_ips: [] }, TTLS).ttl, TTLS.positiveTtl);
  const refused = verdict({ valid: false, code: 'IP_NOT_ALLOWED' }, TTLS);
  assert.ok(refused.outcome instanceof Rejection);
  assert.equal(refused.ttl, 0);
});
