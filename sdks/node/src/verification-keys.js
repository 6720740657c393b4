/**
 * A published signing key, ready to check JWS signatures (RFC 7515 §5.2, RFC 7518 §3).
 *
 * Only public-key algorithms are accepted: a JWKS holds no shared secrets, and `none` is never
 * acceptable. Each key is imported for the one algorithm its JWKS entry names; `jose` (through
 * WebCrypto) refuses a key whose type or curve does not fit that algorithm.
 *
 * Only the public parameters of the key type are imported (RFC 7518 §6): the other members say
 * nothing about the key, and some Gatepass releases publish RSA keys with a `key_ops` that is
 * not an array, which `jose` would refuse the whole key for.
 */

import { importJWK } from 'jose';

export const ASYMMETRIC_ALGS = new Set([
  'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA',
]);

/** @type {Record<string, readonly string[]>} */
const PUBLIC_PARAMETERS = { EC: ['crv', 'x', 'y'], RSA: ['n', 'e'], OKP: ['crv', 'x'] };

/**
 * @typedef {object} VerificationKey
 * @property {string} kid
 * @property {string} alg
 * @property {CryptoKey} key
 */

/**
 * The key of one JWKS entry, or `null` for anything not usable to verify signatures.
 * @param {unknown} entry
 * @returns {Promise<VerificationKey | null>}
 */
export async function fromJwk(entry) {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    return null;
  }
  const members = /** @type {Record<string, unknown>} */ (entry);
  const { kid, alg, kty, use = 'sig' } = members;
  if (use !== 'sig' || typeof kid !== 'string' || typeof alg !== 'string' || !ASYMMETRIC_ALGS.has(alg)) {
    return null;
  }
  const parameters = typeof kty === 'string' ? PUBLIC_PARAMETERS[kty] : undefined;
  if (parameters === undefined) {
    return null;
  }
  const jwk = Object.fromEntries([['kty', kty], ...parameters.map((name) => [name, members[name]])]);
  try {
    const key = await importJWK(jwk, alg);
    return key instanceof CryptoKey && key.type === 'public' ? { kid, alg, key } : null;
  } catch {
    return null;
  }
}
