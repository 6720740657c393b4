// A Fastify app protected by gatepass(verifier), called through Fastify's own request injection:
// the plugin, the preHandler alone, RFC 6750 answers, and the key kept from the app and its log.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';

import Fastify from 'fastify';

import { redactApiKey } from '../../src/index.js';
import { gatepass } from '../../src/fastify.js';
import { altered, dpopProof, dpopToken, env, skip, verifier } from '../../testing/live.js';

const REALM = 'tests';

/**
 * An app with the plugin registered, its routes in a child context of their own.
 * @param {import('fastify').FastifyServerOptions} [options]
 */
async function protectedApp(options = {}) {
  const auth = gatepass(verifier(), { realm: REALM });
  const app = Fastify(options);
  /** @type {string[]} */
  const reached = [];
  await app.register(auth.plugin);
  await app.register(async (routes) => {
    routes.get('/open', async (request) => {
      reached.push(request.url);
      return { url: request.url, raw: request.raw.url, query: request.query, caller: request.caller };
    });
    routes.get('/nql', { preHandler: auth.requires('nql') }, async (request) => request.caller);
  });
  return { app, reached };
}

/** @param {string} token */
const bearer = (token) => ({ authorization: `Bearer ${token}` });

describe('Fastify', { skip }, () => {
  test('a token of the tenant reaches the handler with its caller', async () => {
    const { app } = await protectedApp();
    const response = await app.inject({ url: '/nql', headers: bearer(env().TOKEN) });
    assert.equal(response.statusCode, 200);
    const caller = response.json();
    assert.deepEqual([caller.subject, caller.kind, caller.groups], [env().CLIENT_ID, 'oauth_client', ['emea']]);
  });

  test('a DPoP-bound token needs a proof of its key for this request', async () => {
    const { app } = await protectedApp();
    const { token, key } = await dpopToken();
    const url = 'http://localhost:80/open'; // what Fastify's injection addresses
    const good = await app.inject({ url: '/open', headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', url, token) } });
    assert.equal(good.statusCode, 200, good.body);
    assert.equal(good.json().caller.kind, 'oauth_client');
    const wrongMethod = await app.inject({ url: '/open', headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'POST', url, token) } });
    assert.equal(wrongMethod.statusCode, 401);
    assert.match(String(wrongMethod.headers['www-authenticate']), /^DPoP .*invalid_dpop_proof/);
    assert.equal((await app.inject({ url: '/open', headers: bearer(token) })).statusCode, 401);
  });

  test('no credential is 401 with a bare challenge; an open route lets it through', async () => {
    const { app } = await protectedApp();
    const refused = await app.inject({ url: '/nql' });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.headers['www-authenticate'], `Bearer realm="${REALM}"`);
    assert.equal(refused.headers['cache-control'], 'no-store');
    assert.equal(refused.json().error, 'unauthorized');
    const open = await app.inject({ url: '/open' });
    assert.equal(open.json().caller, null);
  });

  test('a bad token is 401 invalid_token even on an open route, and never reaches it', async () => {
    const { app, reached } = await protectedApp();
    const response = await app.inject({ url: '/open', headers: bearer(altered(env().TOKEN)) });
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['www-authenticate'], `Bearer realm="${REALM}", error="invalid_token"`);
    assert.deepEqual(reached, []);
  });

  test('a key without the permission is 403 naming the scope', async () => {
    const { app } = await protectedApp();
    const response = await app.inject({ url: '/nql', headers: { 'authorization-psk': env().KEY_LACKING } });
    assert.equal(response.statusCode, 403);
    assert.equal(response.headers['www-authenticate'], `Bearer realm="${REALM}", error="insufficient_scope", scope="nql"`);
  });

  test('the application never sees the query key', async () => {
    const { KEY, KEY_ID } = env();
    const { app } = await protectedApp();
    const response = await app.inject({ url: `/open?page=2&apikey=${encodeURIComponent(KEY)}&sort=name` });
    const seen = response.json();
    assert.deepEqual([seen.url, seen.raw, seen.query], ['/open?page=2&sort=name', '/open?page=2&sort=name', { page: '2', sort: 'name' }]);
    assert.equal(seen.caller.subject, KEY_ID);
  });

  test('two credentials in one request are an invalid request', async () => {
    const { app } = await protectedApp();
    const response = await app.inject({ url: `/nql?apikey=${encodeURIComponent(env().KEY)}`, headers: bearer(env().TOKEN) });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error, 'invalid_request');
  });

  test('the preHandler alone authenticates its own routes and no others', async () => {
    const auth = gatepass(verifier(), { realm: REALM });
    const app = Fastify();
    app.get('/open', async (request) => ({ authenticated: request.caller !== undefined }));
    app.get('/nql', { preHandler: auth.requires('nql') }, async (request) => ({ subject: request.caller?.subject }));
    const open = await app.inject({ url: '/open', headers: bearer(altered(env().TOKEN)) });
    assert.deepEqual(open.json(), { authenticated: false });
    const refused = await app.inject({ url: '/nql', headers: bearer(altered(env().TOKEN)) });
    assert.equal(refused.statusCode, 401);
    const allowed = await app.inject({ url: '/nql', headers: { 'x-api-key': env().KEY } });
    assert.deepEqual(allowed.json(), { subject: env().KEY_ID });
  });

  test('with redactApiKey in its serializers, Fastify logs no query key', async () => {
    /** @type {string[]} */
    const lines = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const { app } = await protectedApp({
      logger: {
        level: 'info',
        stream,
        serializers: {
          req: (request) => ({ method: request.method, url: redactApiKey(request.url) }),
        },
      },
    });
    const { KEY, KEY_REVOKED } = env();
    for (const key of [KEY, KEY_REVOKED]) {
      await app.inject({ url: `/nql?apikey=${encodeURIComponent(key)}&other=1` });
    }
    const log = lines.join('');
    assert.match(log, /apikey=\*\*\*&other=1/);
    for (const key of [KEY, KEY_REVOKED]) {
      assert.ok(!log.includes(key.slice(4)));
    }
  });
});
