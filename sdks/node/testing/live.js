// The live Gatepass the integration tests run against, as tests/sdk/test_node_sdk.py prepares
// it: a tenant, its credentials and a few refused ones, in GATEPASS_SDK_TEST_* variables.
// Without any of them (node --test run on its own), the live suites are skipped; with only
// some, they fail: a half-prepared run must not pass by skipping.
import { createHash, randomUUID } from 'node:crypto';

import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT } from 'jose';

import { GatepassVerifier } from '../src/index.js';

const PREFIX = 'GATEPASS_SDK_TEST_';
const NAMES = [
  'ISSUER',
  'AUDIENCE',
  'VERIFY_CLIENT_ID',
  'VERIFY_CLIENT_SECRET',
  'PLAIN_CLIENT_ID',
  'PLAIN_CLIENT_SECRET',
  'CLIENT_ID',
  'TOKEN',
  'TOKEN_WORKFLOWS',
  'OTHER_TENANT_TOKEN',
  'TOKENS_BY_ALG',
  'KEY_ID',
  'KEY',
  'KEY_LACKING',
  'KEY_OWNED',
  'KEY_REVOKED',
  'KEY_RATE_LIMITED',
];

/** @returns {Record<string, string> | null} */
function read() {
  const present = NAMES.filter((name) => process.env[PREFIX + name] !== undefined);
  if (present.length === 0) {
    return null;
  }
  const missing = NAMES.filter((name) => !present.includes(name));
  if (missing.length > 0) {
    throw new Error(`a live run needs every ${PREFIX}* variable; missing: ${missing.join(', ')}`);
  }
  return Object.fromEntries(NAMES.map((name) => [name, String(process.env[PREFIX + name])]));
}

export const live = read();
export const skip = live === null ? `no live Gatepass (${PREFIX}* unset)` : false;

/** The live values; only called inside suites that are not skipped. */
export function env() {
  if (live === null) {
    throw new Error('no live Gatepass');
  }
  return live;
}

/**
 * @typedef {{ issuer: string, audience: string, client_id: string, token: string }} AlgTenant
 * @returns {Record<string, AlgTenant>}
 */
export function tenantsByAlg() {
  return JSON.parse(env().TOKENS_BY_ALG);
}

/**
 * A verifier of the live tenant; `options` override the defaults.
 * @param {Partial<import('../src/verifier.js').VerifierOptions>} [options]
 */
export function verifier(options = {}) {
  const { ISSUER, AUDIENCE, VERIFY_CLIENT_ID, VERIFY_CLIENT_SECRET } = env();
  return new GatepassVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    verifyClient: { clientId: VERIFY_CLIENT_ID, clientSecret: VERIFY_CLIENT_SECRET },
    ...options,
  });
}

/** A `fetch` that counts the requests it sends, by path ending. */
export function counting() {
  /** @type {string[]} */
  const paths = [];
  /** @type {typeof fetch} */
  const counted = (input, init) => {
    paths.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
    return fetch(input, init);
  };
  return {
    fetch: counted,
    paths,
    /** @param {string} ending */
    count: (ending) => paths.filter((path) => path.endsWith(ending)).length,
  };
}

/**
 * The same secret with its last character changed (never to itself).
 * @param {string} secret
 */
export function altered(secret) {
  return secret.slice(0, -1) + (secret.endsWith('x') ? 'y' : 'x');
}

/**
 * The token's claims (with `changes`) signed by a key Gatepass never published.
 * @param {string} token
 * @param {{ kid?: string, typ?: string, changes?: Record<string, unknown> }} [options]
 */
export async function forged(token, { kid, typ = 'at+jwt', changes = {} } = {}) {
  const { privateKey } = await generateKeyPair('ES256');
  return new SignJWT({ ...decodeJwt(token), ...changes })
    .setProtectedHeader({ alg: 'ES256', kid: kid ?? String(decodeProtectedHeader(token).kid), typ })
    .sign(privateKey);
}

/**
 * The reason a verification was refused for, or a failure if it was not.
 * @param {Promise<unknown>} verification
 * @param {Function} kind the expected error class
 */
export async function refusal(verification, kind) {
  try {
    await verification;
  } catch (error) {
    if (!(error instanceof kind)) {
      throw error;
    }
    return /** @type {{ reason: string }} */ (error).reason;
  }
  throw new Error('accepted');
}

/**
 * @typedef {{ privateKey: CryptoKey, jwk: import('jose').JWK }} ProofKey
 */

/**
 * A DPoP proof (RFC 9449 §4.2) signed with `key`, for `token` if given; `claims` override.
 * @param {ProofKey} key
 * @param {string} method
 * @param {string} url
 * @param {string | null} [token]
 * @param {Record<string, unknown>} [claims]
 */
export async function dpopProof(key, method, url, token = null, claims = {}) {
  const ath = token === null ? {} : { ath: createHash('sha256').update(token).digest('base64url') };
  return new SignJWT({ htm: method, htu: url, jti: randomUUID(), ...ath, ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk })
    .setIssuedAt()
    .sign(key.privateKey);
}

/**
 * A token the live Gatepass bound to a new key (its plain client, with a DPoP proof).
 * @returns {Promise<{ token: string, type: string, key: ProofKey }>}
 */
export async function dpopToken() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const key = { privateKey, jwk: await exportJWK(publicKey) };
  const { ISSUER, PLAIN_CLIENT_ID, PLAIN_CLIENT_SECRET } = env();
  const url = `${ISSUER}/protocol/openid-connect/token`;
  const basic = Buffer.from(`${PLAIN_CLIENT_ID}:${PLAIN_CLIENT_SECRET}`).toString('base64');
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, dpop: await dpopProof(key, 'POST', url) },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  const body = await response.json();
  return { token: body.access_token, type: body.token_type, key };
}
