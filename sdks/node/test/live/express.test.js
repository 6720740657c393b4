// An Express app protected by gatepass(verifier), served on a local port and called over HTTP:
// RFC 6750 answers, each place a key may be sent, and the key kept from the application.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import express from 'express';

import { gatepass } from '../../src/express.js';
import { altered, counting, dpopProof, dpopToken, env, skip, verifier } from '../../testing/live.js';

const REALM = 'tests';

/**
 * A small API: `/open` authenticates only, the others require permissions.
 * @param {import('../../src/index.js').GatepassVerifier} checking
 */
function protectedApp(checking) {
  const auth = gatepass(checking, { realm: REALM });
  const app = express();
  /** @type {string[]} */
  const reached = [];
  app.get('/open', auth.authenticate, (req, res) => {
    reached.push(req.url);
    res.json({ url: req.url, originalUrl: req.originalUrl, query: req.query, caller: req.caller ?? null });
  });
  app.get('/me', auth.requires(), (req, res) => res.json(req.caller));
  app.get('/nql', auth.requires('nql'), (req, res) => res.json({ subject: req.caller?.subject }));
  app.get('/nql-and-workflows', auth.requires('nql', 'workflows'), (req, res) => res.json({ subject: req.caller?.subject }));
  const router = express.Router();
  router.use(auth.authenticate);
  router.get('/reports', auth.requires('nql'), (req, res) => res.json({ url: req.url, originalUrl: req.originalUrl }));
  app.use('/api', router);
  return { app, reached };
}

/**
 * Serve `app` on a free local port for the suite.
 * @param {import('express').Express} app
 */
async function serve(app) {
  const server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return { server, base: `http://127.0.0.1:${port}` };
}

/** @param {string} token */
const bearer = (token) => ({ authorization: `Bearer ${token}` });

describe('Express', { skip }, () => {
  /** @type {{ server: import('node:http').Server, base: string }} */
  let api;
  /** @type {string[]} */
  let reached;
  /** @type {string[]} */
  const logged = [];
  const logger = { info: (/** @type {string} */ m) => logged.push(m), warn: (/** @type {string} */ m) => logged.push(m), error: (/** @type {string} */ m) => logged.push(m) };

  before(async () => {
    const made = protectedApp(verifier({ logger }));
    reached = made.reached;
    api = await serve(made.app);
  });

  after(() => api.server.close());

  /** @param {string} path @param {Record<string, string>} [headers] */
  const get = (path, headers = {}) => fetch(api.base + path, { headers });

  test('no credential is 401 with a bare challenge', async () => {
    const response = await get('/nql');
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), `Bearer realm="${REALM}"`);
    assert.equal((await response.json()).error, 'unauthorized');
  });

  test('a route that only authenticates is open to anonymous callers', async () => {
    const response = await get('/open');
    assert.equal(response.status, 200);
    assert.equal((await response.json()).caller, null);
  });

  test('another Authorization scheme is left alone', async () => {
    const response = await get('/open', { authorization: 'Basic dXNlcjpwYXNz' });
    assert.equal(response.status, 200);
  });

  test('a bad token is 401 invalid_token even on an open route, and never reaches it', async () => {
    const before = reached.length;
    const response = await get('/open', bearer(altered(env().TOKEN)));
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), `Bearer realm="${REALM}", error="invalid_token"`);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await response.json(), {
      error: 'invalid_token',
      error_description: 'the access token or API key is not valid',
    });
    assert.equal(reached.length, before);
  });

  test('a token of the tenant reaches the handler with its caller', async () => {
    const response = await get('/me', bearer(env().TOKEN));
    assert.equal(response.status, 200);
    const caller = await response.json();
    assert.equal(caller.subject, env().CLIENT_ID);
    assert.deepEqual(caller.permissions, ['nql', 'workflows']);
    assert.deepEqual(caller.groups, ['emea']);
  });

  test('a DPoP-bound token needs a proof of its key for this request, used once', async () => {
    const { token, type, key } = await dpopToken();
    assert.equal(type, 'DPoP');
    const url = `${api.base}/me`;
    const proof = await dpopProof(key, 'GET', url, token);
    const good = await get('/me', { authorization: `DPoP ${token}`, dpop: proof });
    assert.equal(good.status, 200, await good.clone().text());
    const replayed = await get('/me', { authorization: `DPoP ${token}`, dpop: proof });
    assert.equal(replayed.status, 401);
    assert.match(String(replayed.headers.get('www-authenticate')), /^DPoP .*error="invalid_dpop_proof"/);
    const elsewhere = await dpopProof(key, 'GET', `${api.base}/nql`, token);
    assert.equal((await get('/me', { authorization: `DPoP ${token}`, dpop: elsewhere })).status, 401);
    assert.equal((await get('/me', bearer(token))).status, 401);
    const mounted = await dpopProof(key, 'GET', `${api.base}/api/reports`, token);
    const routed = await get('/api/reports', { authorization: `DPoP ${token}`, dpop: mounted });
    assert.notEqual(routed.status, 401); // the proof names the URL the client called, router or not
  });

  test('a token of another tenant is 401', async () => {
    assert.equal((await get('/me', bearer(env().OTHER_TENANT_TOKEN))).status, 401);
  });

  test('a token without the permission is 403 naming the scope', async () => {
    const response = await get('/nql', bearer(env().TOKEN_WORKFLOWS));
    assert.equal(response.status, 403);
    assert.equal(
      response.headers.get('www-authenticate'),
      `Bearer realm="${REALM}", error="insufficient_scope", scope="nql"`,
    );
    assert.equal((await response.json()).error, 'insufficient_scope');
  });

  test('every required permission is needed and named', async () => {
    const refused = await get('/nql-and-workflows', { 'x-api-key': env().KEY });
    assert.equal(refused.status, 403);
    assert.match(String(refused.headers.get('www-authenticate')), /scope="nql workflows"/);
    assert.equal((await get('/nql-and-workflows', bearer(env().TOKEN))).status, 200);
  });

  test('a key is accepted in each of its three places', async () => {
    const { KEY, KEY_ID } = env();
    const sent = [
      get('/me', { 'authorization-psk': KEY }),
      get('/me', { 'x-api-key': KEY }),
      get(`/me?apikey=${encodeURIComponent(KEY)}`),
    ];
    for (const response of await Promise.all(sent)) {
      assert.equal(response.status, 200);
      const caller = await response.json();
      assert.deepEqual([caller.subject, caller.kind, caller.permissions, caller.groups], [KEY_ID, 'api_key', ['nql'], ['americas']]);
    }
  });

  test('a key without the permission is 403 too', async () => {
    const response = await get(`/nql?apikey=${encodeURIComponent(env().KEY_LACKING)}`);
    assert.equal(response.status, 403);
    assert.match(String(response.headers.get('www-authenticate')), /error="insufficient_scope", scope="nql"/);
  });

  test('the application never sees the query key', async () => {
    const { KEY, KEY_ID } = env();
    const response = await get(`/open?page=2&apikey=${encodeURIComponent(KEY)}&sort=name`);
    assert.deepEqual(await response.json(), {
      url: '/open?page=2&sort=name',
      originalUrl: '/open?page=2&sort=name',
      query: { page: '2', sort: 'name' },
      caller: { subject: KEY_ID, kind: 'api_key', permissions: ['nql'], groups: ['americas'], name: 'integration key', owner: null, expiresAt: null },
    });
  });

  test('a router mounted on a path authenticates once and strips the key too', async () => {
    const response = await get(`/api/reports?apikey=${encodeURIComponent(env().KEY)}&x=1`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { url: '/reports?x=1', originalUrl: '/api/reports?x=1' });
  });

  test('two credentials in one request are an invalid request', async () => {
    const { KEY } = env();
    for (const response of [
      await get(`/me?apikey=${encodeURIComponent(KEY)}`, { 'x-api-key': KEY }),
      await get('/me', { 'x-api-key': KEY, 'authorization-psk': KEY }),
      await get(`/me?apikey=${encodeURIComponent(KEY)}&apikey=${encodeURIComponent(KEY)}`),
    ]) {
      assert.equal(response.status, 400);
      assert.equal((await response.json()).error, 'invalid_request');
    }
  });

  test('a revoked key is 401 invalid_token, its code kept for the logs', async () => {
    const response = await get('/open', { 'authorization-psk': env().KEY_REVOKED });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), `Bearer realm="${REALM}", error="invalid_token"`);
    assert.ok(!(await response.text()).includes('REVOKED'));
    assert.ok(logged.some((line) => line.includes('REVOKED')));
  });

  test('a key over its rate limit is 429 with Retry-After, each use counted by Gatepass', async () => {
    const counter = counting();
    const made = protectedApp(verifier({ fetch: counter.fetch }));
    const own = await serve(made.app);
    try {
      /** @type {Response[]} */
      const responses = [];
      for (let i = 0; i < 4; i += 1) {
        responses.push(await fetch(`${own.base}/me`, { headers: { 'x-api-key': env().KEY_RATE_LIMITED } }));
      }
      assert.deepEqual(responses.map((r) => r.status), [200, 200, 429, 429]);
      const retry = Number(responses[2].headers.get('retry-after'));
      assert.ok(retry >= 1 && retry <= 86400, String(retry));
      assert.equal((await responses[2].json()).error, 'rate_limited');
      assert.equal(counter.count('/api-keys/verify'), 3); // the refusal is then cached briefly
    } finally {
      own.server.close();
    }
  });

  test('a wrong verify client is 503 without a challenge', async () => {
    const { VERIFY_CLIENT_ID, VERIFY_CLIENT_SECRET, KEY } = env();
    const wrong = { clientId: VERIFY_CLIENT_ID, clientSecret: altered(VERIFY_CLIENT_SECRET) };
    const own = await serve(protectedApp(verifier({ verifyClient: wrong })).app);
    try {
      const response = await fetch(`${own.base}/me`, { headers: { 'x-api-key': KEY } });
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '2');
      assert.equal(response.headers.get('www-authenticate'), null);
      assert.equal((await response.json()).error, 'temporarily_unavailable');
    } finally {
      own.server.close();
    }
  });

  test('the SDK logs refusals without ever logging a key', async () => {
    const { KEY, KEY_REVOKED } = env();
    const unknown = `gpk_${'C'.repeat(38)}`;
    for (const key of [KEY, KEY_REVOKED, unknown]) {
      await get(`/nql?apikey=${encodeURIComponent(key)}&other=1`);
    }
    const lines = logged.join('\n');
    assert.match(lines, /request refused: 401 NOT_FOUND/);
    for (const key of [KEY, KEY_REVOKED, unknown]) {
      assert.ok(!lines.includes(key.slice(4)));
    }
  });
});
