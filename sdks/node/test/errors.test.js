// Each refusal's HTTP shape (RFC 6750 §3, RFC 6585 §4): status, challenge, headers, JSON body.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  AuthError,
  CredentialsRequiredError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  RateLimitedError,
  UnavailableError,
} from '../src/index.js';

const NO_STORE = { 'content-type': 'application/json', 'cache-control': 'no-store' };

test('no credential: 401 with a bare challenge and no error code', () => {
  assert.deepEqual(new CredentialsRequiredError().render('api://demo'), {
    status: 401,
    headers: { ...NO_STORE, 'www-authenticate': 'Bearer realm="api://demo"' },
    body: '{"error":"unauthorized","error_description":"authentication is required: a Bearer token or an API key"}',
  });
});

test('a bad credential: 401 invalid_token, the reason kept out of the answer', () => {
  const error = new InvalidTokenError('REVOKED');
  const { status, headers, body } = error.render('api://demo');
  assert.equal(status, 401);
  assert.equal(headers['www-authenticate'], 'Bearer realm="api://demo", error="invalid_token"');
  assert.deepEqual(JSON.parse(body), {
    error: 'invalid_token',
    error_description: 'the access token or API key is not valid',
  });
  assert.ok(!body.includes('REVOKED'));
  assert.equal(error.reason, 'REVOKED');
  assert.ok(error instanceof AuthError);
});

test('two credentials: 400 invalid_request', () => {
  const { status, headers, body } = new InvalidRequestError('2 credentials').render('r');
  assert.equal(status, 400);
  assert.equal(headers['www-authenticate'], 'Bearer realm="r", error="invalid_request"');
  assert.equal(JSON.parse(body).error, 'invalid_request');
});

test('a missing permission: 403 insufficient_scope naming every needed scope', () => {
  const { status, headers, body } = new InsufficientScopeError(['nql', 'workflows']).render('r');
  assert.equal(status, 403);
  assert.equal(headers['www-authenticate'], 'Bearer realm="r", error="insufficient_scope", scope="nql workflows"');
  assert.equal(JSON.parse(body).error_description, 'this request needs the permission(s): nql workflows');
});

test('a rate-limited key: 429 with Retry-After, at least one second, and no challenge', () => {
  const { status, headers } = new RateLimitedError('RATE_LIMITED', { retryAfter: 42 }).render('r');
  assert.equal(status, 429);
  assert.equal(headers['retry-after'], '42');
  assert.equal(headers['www-authenticate'], undefined);
  assert.equal(new RateLimitedError('', { retryAfter: -3 }).render('r').headers['retry-after'], '1');
});

test('Gatepass unreachable: 503 temporarily_unavailable with Retry-After and no challenge', () => {
  const { status, headers, body } = new UnavailableError('verify endpoint answered 500').render('r');
  assert.equal(status, 503);
  assert.deepEqual(headers, { ...NO_STORE, 'retry-after': '2' });
  assert.equal(JSON.parse(body).error, 'temporarily_unavailable');
});

test('quotes and backslashes cannot break out of the challenge', () => {
  const { headers } = new InvalidTokenError().render('a"b\\c');
  assert.equal(headers['www-authenticate'], 'Bearer realm="abc", error="invalid_token"');
});
