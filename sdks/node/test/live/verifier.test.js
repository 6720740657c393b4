// GatepassVerifier against a live Gatepass: JWT access tokens verified locally (RFC 9068 §4)
// and API keys through the verify endpoint, with each refusal's internal reason.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';

import { decodeJwt, decodeProtectedHeader } from 'jose';

import { InvalidTokenError, UnavailableError } from '../../src/index.js';
import { altered, counting, env, forged, refusal, skip, tenantsByAlg, verifier } from '../../testing/live.js';

/** @param {unknown} value */
const segment = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** @param {string} token @param {Parameters<typeof verifier>[0]} [options] */
function tokenRefusal(token, options = {}) {
  return refusal(verifier(options).verifyToken(token), InvalidTokenError);
}

/** @param {string} key */
function keyRefusal(key) {
  return refusal(verifier({ keyTtl: 0, negativeTtl: 0 }).verifyApiKey(key), InvalidTokenError);
}

/** A URL on this machine where nothing listens. */
async function nowhere() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/certs`;
}

describe('access tokens', { skip }, () => {
  test('a token of the tenant gives its client as caller', async () => {
    const { TOKEN, CLIENT_ID } = env();
    const caller = await verifier().verifyToken(TOKEN);
    assert.equal(caller.subject, CLIENT_ID);
    assert.equal(caller.kind, 'oauth_client');
    assert.deepEqual([...caller.permissions].sort(), ['nql', 'workflows']);
    assert.deepEqual(caller.groups, ['emea']);
    assert.equal(caller.expiresAt, decodeJwt(TOKEN).exp);
    assert.equal(caller.claims.jti, decodeJwt(TOKEN).jti);
  });

  test('tokens of the other signing algorithms verify too, and forgeries do not', async () => {
    const tenants = tenantsByAlg();
    assert.deepEqual(Object.keys(tenants).sort(), ['EdDSA', 'RS256']);
    for (const [alg, tenant] of Object.entries(tenants)) {
      assert.equal(decodeProtectedHeader(tenant.token).alg, alg);
      const options = { issuer: tenant.issuer, audience: tenant.audience };
      assert.equal((await verifier(options).verifyToken(tenant.token)).subject, tenant.client_id);
      assert.equal(await tokenRefusal(await forged(tenant.token), options), 'alg');
    }
  });

  test('an expired token is refused once the leeway has run out', async () => {
    const { TOKEN } = env();
    const exp = Number(decodeJwt(TOKEN).exp);
    await verifier({ leeway: 5, clock: () => exp + 4 }).verifyToken(TOKEN);
    assert.equal(await tokenRefusal(TOKEN, { leeway: 5, clock: () => exp + 5 }), 'exp');
  });

  test('a token not yet valid is refused', async () => {
    const { TOKEN } = env();
    const nbf = Number(decodeJwt(TOKEN).nbf);
    assert.equal(await tokenRefusal(TOKEN, { leeway: 0, clock: () => nbf - 60 }), 'nbf');
  });

  test('a token for another audience is refused; one of several audiences is enough', async () => {
    const { TOKEN, AUDIENCE } = env();
    assert.equal(await tokenRefusal(TOKEN, { audience: 'api://another-api' }), 'aud');
    await verifier({ audience: ['api://another-api', AUDIENCE] }).verifyToken(TOKEN);
  });

  test('a token from another issuer is refused', async () => {
    const { TOKEN, ISSUER } = env();
    const jwksUrl = `${ISSUER}/protocol/openid-connect/certs`;
    assert.equal(await tokenRefusal(TOKEN, { issuer: `${ISSUER}-x`, jwksUrl }), 'iss');
  });

  test('a token of another tenant is refused', async () => {
    assert.equal(await tokenRefusal(env().OTHER_TENANT_TOKEN), 'unknown kid');
  });

  test('made-up key IDs cost Gatepass one JWKS fetch per interval', async () => {
    const { TOKEN } = env();
    const counter = counting();
    const checking = verifier({ fetch: counter.fetch, jwksRefetchInterval: 3600 });
    await checking.verifyToken(TOKEN);
    for (let number = 0; number < 20; number += 1) {
      const made = await forged(TOKEN, { kid: `made-up-${number}` });
      assert.equal(await refusal(checking.verifyToken(made), InvalidTokenError), 'unknown kid');
    }
    assert.equal(counter.count('/certs'), 1);
  });

  test('a token not as issued is refused with the failed check', async () => {
    const { TOKEN } = env();
    const [header, payload, signature] = TOKEN.split('.');
    const { kid } = decodeProtectedHeader(TOKEN);
    const cases = [
      [await forged(TOKEN), 'signature'],
      [await forged(TOKEN, { typ: 'JWT' }), 'not an access token'],
      [`${segment({ alg: 'none', kid, typ: 'at+jwt' })}.${payload}.`, 'base64url'],
      [`${header}.${segment({ ...decodeJwt(TOKEN), scope: 'spark' })}.${signature}`, 'signature'],
      [`${segment({ ...decodeProtectedHeader(TOKEN), alg: 'HS256' })}.${payload}.${signature}`, 'alg'],
      [`${TOKEN}!`, 'base64url'],
      [TOKEN.replace('.', '..'), 'malformed'],
      ['x'.repeat(9000), 'malformed'],
      [`${Buffer.from('['.repeat(2000) + ']'.repeat(2000)).toString('base64url')}.${payload}.${signature}`, 'json'],
    ];
    for (const [token, reason] of cases) {
      assert.equal(await tokenRefusal(token), reason, token.slice(0, 40));
    }
  });

  test('an unreachable Gatepass is unavailable, not invalid', async () => {
    const checking = verifier({ jwksUrl: await nowhere() });
    await assert.rejects(checking.verifyToken(env().TOKEN), UnavailableError);
  });
});

describe('API keys', { skip }, () => {
  test('a key gives its ID, permissions, groups and name', async () => {
    const { KEY, KEY_ID } = env();
    const caller = await verifier().verifyApiKey(KEY);
    assert.deepEqual(caller.toJSON(), {
      subject: KEY_ID,
      kind: 'api_key',
      permissions: ['nql'],
      groups: ['americas'],
      name: 'integration key',
      owner: null,
      expiresAt: null,
    });
    assert.deepEqual(caller.claims, {});
  });

  test('a personal key names its owner', async () => {
    assert.equal((await verifier().verifyApiKey(env().KEY_OWNED)).owner, 'dev@example.com');
  });

  test('an unknown key is NOT_FOUND', async () => {
    assert.equal(await keyRefusal(altered(env().KEY)), 'NOT_FOUND');
  });

  test('a revoked key is REVOKED', async () => {
    assert.equal(await keyRefusal(env().KEY_REVOKED), 'REVOKED');
  });

  test('malformed keys never reach Gatepass', async () => {
    const counter = counting();
    const checking = verifier({ fetch: counter.fetch });
    for (const key of ['', 'x'.repeat(257), 'gpk_\u00e9t\u00e9', 'gpk_\n']) {
      assert.equal(await refusal(checking.verifyApiKey(key), InvalidTokenError), 'MALFORMED');
    }
    assert.deepEqual(counter.paths, []);
  });

  test('a valid answer is reused for the positive TTL', async () => {
    const counter = counting();
    const checking = verifier({ fetch: counter.fetch, keyTtl: 3600 });
    for (let i = 0; i < 5; i += 1) {
      await checking.verifyApiKey(env().KEY);
    }
    assert.equal(counter.count('/api-keys/verify'), 1);
  });

  test('a refusal is reused for the negative TTL', async () => {
    const counter = counting();
    const unknown = `gpk_${'B'.repeat(38)}`;
    const checking = verifier({ fetch: counter.fetch, negativeTtl: 3600 });
    for (let i = 0; i < 5; i += 1) {
      await refusal(checking.verifyApiKey(unknown), InvalidTokenError);
    }
    assert.equal(counter.count('/api-keys/verify'), 1);
    const uncached = verifier({ fetch: counter.fetch, negativeTtl: 0 });
    await refusal(uncached.verifyApiKey(unknown), InvalidTokenError);
    await refusal(uncached.verifyApiKey(unknown), InvalidTokenError);
    assert.equal(counter.count('/api-keys/verify'), 3);
  });

  test('the cache holds at most cacheSize keys', async () => {
    const { KEY, KEY_LACKING, KEY_OWNED } = env();
    const counter = counting();
    const checking = verifier({ fetch: counter.fetch, cacheSize: 2 });
    for (const key of [KEY, KEY_LACKING, KEY_OWNED, KEY_OWNED, KEY_LACKING, KEY]) {
      await checking.verifyApiKey(key);
    }
    assert.equal(counter.count('/api-keys/verify'), 4); // KEY was evicted
  });

  test('a wrong verify client is unavailable, and not cached', async () => {
    const { KEY, KEY_ID, VERIFY_CLIENT_ID, VERIFY_CLIENT_SECRET } = env();
    const counter = counting();
    const wrong = { clientId: VERIFY_CLIENT_ID, clientSecret: altered(VERIFY_CLIENT_SECRET) };
    const checking = verifier({ fetch: counter.fetch, verifyClient: wrong });
    await assert.rejects(checking.verifyApiKey(KEY), UnavailableError);
    await assert.rejects(checking.verifyApiKey(KEY), UnavailableError);
    assert.equal(counter.count('/api-keys/verify'), 2);
    assert.equal((await verifier().verifyApiKey(KEY)).subject, KEY_ID);
  });

  test('a client without api_keys:verify cannot verify', async () => {
    const { KEY, PLAIN_CLIENT_ID, PLAIN_CLIENT_SECRET } = env();
    const plain = { clientId: PLAIN_CLIENT_ID, clientSecret: PLAIN_CLIENT_SECRET };
    await assert.rejects(verifier({ verifyClient: plain }).verifyApiKey(KEY), UnavailableError);
  });

  test('without a verify client, keys are refused', async () => {
    const reason = await refusal(verifier({ verifyClient: null }).verifyApiKey(env().KEY), InvalidTokenError);
    assert.equal(reason, 'API keys are not accepted: no verify client');
  });

  test('a closed verifier answers nothing more, even from its cache', async () => {
    const checking = verifier();
    await checking.verifyApiKey(env().KEY);
    checking.close();
    await assert.rejects(checking.verifyApiKey(env().KEY), UnavailableError);
    await assert.rejects(checking.verifyToken(env().TOKEN), UnavailableError);
  });
});
