/**
 * A published signing key, ready to check JWS signatures (RFC 7515 §5.2, RFC 7518 §3).
 *
 * Only public-key algorithms are accepted: a JWKS holds no shared secrets, and `none` is never
 * acceptable. Each key is imported for the one algorithm its JWKS entry names; `jose` (through
 * WebCrypto) refuses a key whose type or curve does not fit that algorithm.
 */

import { importJWK } from 'jose';

export const ASYMMETRIC_ALGS = new Set([
  'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA',
]);

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
  const { kid, alg, use = 'sig' } = /** @type {Record<string, unknown>} */ (entry);
  if (use !== 'sig' || typeof kid !== 'string' || typeof alg !== 'string' || !ASYMMETRIC_ALGS.has(alg)) {
    return null;
  }
  try {
    const key = await importJWK(/** @type {import('jose').JWK} */ (entry), alg);
    if (!(key instanceof CryptoKey) || key.type !== 'public') {
      return null;
    }
    return { kid, alg, key };
  } catch {
    return null;
  }
}
