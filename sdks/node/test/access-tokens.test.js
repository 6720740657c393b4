// The screening of a compact JWS before any key is looked up, and the caller its claims name.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { callerOf, screen } from '../src/access-tokens.js';
import { InvalidTokenError } from '../src/errors.js';

/** @param {unknown} value */
const segment = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const HEADER = segment({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' });
const PAYLOAD = segment({ sub: 'c' });
const SIGNATURE = 'A'.repeat(86); // 64 bytes, as an ES256 signature

/** @param {string} token */
function reason(token) {
  try {
    screen(token);
  } catch (error) {
    assert.ok(error instanceof InvalidTokenError);
    return error.reason;
  }
  return 'accepted';
}

test('an access token header gives its kid and alg', () => {
  assert.deepEqual(screen(`${HEADER}.${PAYLOAD}.${SIGNATURE}`), { kid: 'k1', alg: 'ES256' });
  const typed = segment({ alg: 'RS256', kid: 'k2', typ: 'application/AT+JWT' });
  assert.deepEqual(screen(`${typed}.${PAYLOAD}.${SIGNATURE}`), { kid: 'k2', alg: 'RS256' });
});

test('each malformed shape is refused with its reason', () => {
  const cases = {
    malformed: [`${HEADER}.${PAYLOAD}`, `${HEADER}..${PAYLOAD}.${SIGNATURE}`, 'x'.repeat(8193)],
    base64url: [`${HEADER}.${PAYLOAD}.`, `${HEADER}.${PAYLOAD}.${SIGNATURE}!`, `${HEADER}.${PAYLOAD}.AB=`, `${HEADER}.p\u00e9.${SIGNATURE}`],
    json: [`${segment([1])}.${PAYLOAD}.${SIGNATURE}`, `${Buffer.from('{').toString('base64url')}.${PAYLOAD}.${SIGNATURE}`, `${Buffer.from([0xff, 0xfe]).toString('base64url')}.${PAYLOAD}.${SIGNATURE}`],
    'no kid, typ or alg': [`${segment({ alg: 'ES256', typ: 'at+jwt' })}.${PAYLOAD}.${SIGNATURE}`],
    'not an access token': [`${segment({ alg: 'ES256', kid: 'k', typ: 'JWT' })}.${PAYLOAD}.${SIGNATURE}`],
    crit: [`${segment({ alg: 'ES256', kid: 'k', typ: 'at+jwt', crit: ['exp'] })}.${PAYLOAD}.${SIGNATURE}`],
  };
  for (const [expected, tokens] of Object.entries(cases)) {
    for (const token of tokens) {
      assert.equal(reason(token), expected, token.slice(0, 60));
    }
  }
});

test('a signature has one spelling only: non-zero trailing bits are refused', () => {
  // 'A' and 'B' as the last of 86 characters decode to the same 64 bytes.
  assert.equal(reason(`${HEADER}.${PAYLOAD}.${'A'.repeat(85)}B`), 'base64url');
  assert.equal(reason(`${HEADER}.${PAYLOAD}.${'A'.repeat(85)}w`), 'accepted');
  assert.equal(reason(`${HEADER}.${PAYLOAD}.${'A'.repeat(85)}`), 'base64url'); // 1 modulo 4
});

test('the caller of a token is its client, with the scopes as permissions', () => {
  const claims = { client_id: 'gpc_1', sub: 'gpc_1', scope: 'nql  workflows', groups: ['emea'], exp: 1700000000, jti: 'j' };
  const caller = callerOf(claims);
  assert.equal(caller.subject, 'gpc_1');
  assert.equal(caller.kind, 'oauth_client');
  assert.deepEqual([...caller.permissions], ['nql', 'workflows']);
  assert.deepEqual(caller.groups, ['emea']);
  assert.equal(caller.expiresAt, 1700000000);
  assert.equal(caller.claims.jti, 'j');
  assert.deepEqual([...callerOf({ client_id: 'c', exp: 1 }).permissions], []);
});

test('scope and groups of the wrong type are refused', () => {
  assert.throws(() => callerOf({ client_id: 'c', exp: 1, scope: ['nql'] }), InvalidTokenError);
  assert.throws(() => callerOf({ client_id: 'c', exp: 1, groups: 'emea' }), InvalidTokenError);
  assert.throws(() => callerOf({ client_id: 'c', exp: 1, groups: [1] }), InvalidTokenError);
});

