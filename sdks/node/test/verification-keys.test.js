// Which JWKS entries become verification keys: public keys for a public-key algorithm only.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { exportJWK, generateKeyPair, generateSecret } from 'jose';

import { fromJwk } from '../src/verification-keys.js';

/** @param {string} alg @param {Record<string, unknown>} [options] */
async function published(alg, options = {}) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...options });
  return { public: { ...(await exportJWK(publicKey)), kid: 'k', alg, use: 'sig' }, private: await exportJWK(privateKey) };
}

test('a public key of each algorithm family is kept, for its own algorithm', async () => {
  for (const alg of ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA']) {
    const key = await fromJwk((await published(alg)).public);
    assert.ok(key !== null, alg);
    assert.deepEqual([key.kid, key.alg, key.key.type], ['k', alg, 'public']);
  }
});

test('members that say nothing about the key are ignored, a malformed key_ops included', async () => {
  const { public: jwk } = await published('RS256');
  assert.ok((await fromJwk({ ...jwk, key_ops: "['verify']", ext: 'yes' })) !== null);
});

test('only the public part of a published private key is ever imported', async () => {
  const { public: jwk, private: secret } = await published('ES256');
  const key = await fromJwk({ ...secret, kid: 'k', alg: 'ES256', use: 'sig' });
  assert.equal(key?.key.type, 'public');
  assert.ok(jwk.d === undefined);
});

test('entries unfit to verify signatures are left out', async () => {
  const { public: es256 } = await published('ES256');
  const { public: p384 } = await published('ES384');
  const secret = { ...(await exportJWK(await generateSecret('HS256', { extractable: true }))), kid: 'k', alg: 'HS256' };
  const unfit = [
    null,
    [es256],
    'ES256',
    { ...es256, use: 'enc' },
    { ...es256, alg: 'none' },
    { ...es256, alg: undefined },
    { ...es256, kid: 7 },
    { ...es256, kty: 'oct' },
    { ...p384, alg: 'ES256' }, // the curve must be the algorithm's
    { ...es256, alg: 'RS256' },
    { ...es256, x: 'AAAA' },
    secret,
  ];
  for (const entry of unfit) {
    assert.equal(await fromJwk(entry), null, JSON.stringify(entry));
  }
});
