/**
 * Proof of possession for DPoP-bound access tokens (RFC 9449 §4.3, §7.1), as the Python SDK
 * checks it.
 *
 * Gatepass binds a token to a key when the client asked with a DPoP proof: the token's
 * `cnf.jkt` is the key's RFC 7638 thumbprint. Such a token is good only as
 * `Authorization: DPoP <token>` with one `DPoP` header: a new proof, signed with that key, for
 * this request's method and URL, made within the last `maxAge` seconds, carrying the token's
 * hash (`ath`) and a `jti` this process has not accepted before.
 */

import { createHash } from 'node:crypto';

import { calculateJwkThumbprint, EmbeddedJWK, errors, jwtVerify } from 'jose';

import { TtlCache } from './cache.js';
import { InvalidDPoPProofError } from './errors.js';

export const MAX_PROOF = 4096;
const ALGORITHMS = ['ES256', 'RS256', 'PS256', 'EdDSA'];
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * @typedef {object} Presentation what a request says besides its token
 * @property {readonly string[]} proofs its `DPoP` headers
 * @property {string} method
 * @property {string} url the full URL the client addressed
 */

export class ProofChecker {
  #seen;
  #clock;

  /**
   * @param {{ maxAge?: number, ahead?: number, clock?: () => number }} [options] seconds
   */
  constructor({ maxAge = 60, ahead = 5, clock = () => Date.now() / 1000 } = {}) {
    this.maxAge = maxAge;
    this.ahead = ahead;
    this.#clock = clock;
    /** @type {TtlCache<boolean>} */
    this.#seen = new TtlCache(100_000);
  }

  /**
   * Resolves if the request proves it holds the key `jkt` names; else rejects with
   * `InvalidDPoPProofError` (its `reason` says which check failed).
   * @param {Presentation} presentation
   * @param {string} token
   * @param {unknown} jkt
   */
  async check(presentation, token, jkt) {
    if (presentation.proofs.length !== 1) {
      throw new InvalidDPoPProofError('one DPoP header');
    }
    const [proof] = presentation.proofs;
    if (!proof || proof.length > MAX_PROOF) {
      throw new InvalidDPoPProofError('size');
    }
    const { payload, jwk } = await verified(proof);
    if ((await calculateJwkThumbprint(jwk)) !== jkt) {
      throw new InvalidDPoPProofError('jkt');
    }
    this.#checkClaims(payload, presentation, token);
  }

  /**
   * @param {Record<string, unknown>} claims
   * @param {Presentation} request
   * @param {string} token
   */
  #checkClaims(claims, request, token) {
    const now = this.#clock();
    const { iat, htm, htu, ath, jti } = claims;
    if (typeof iat !== 'number' || iat < now - this.maxAge || iat > now + this.ahead) {
      throw new InvalidDPoPProofError('iat');
    }
    if (htm !== request.method) {
      throw new InvalidDPoPProofError('htm');
    }
    if (typeof htu !== 'string' || normalized(htu) !== normalized(request.url)) {
      throw new InvalidDPoPProofError('htu');
    }
    if (ath !== tokenHash(token)) {
      throw new InvalidDPoPProofError('ath');
    }
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 200) {
      throw new InvalidDPoPProofError('jti');
    }
    const key = createHash('sha256').update(`${htu}\n${jti}`).digest('base64');
    if (this.#seen.get(key)) {
      throw new InvalidDPoPProofError('replayed');
    }
    this.#seen.put(key, true, this.maxAge + this.ahead);
  }
}

/**
 * The proof's claims and embedded key, once its header and signature hold.
 * @param {string} proof
 */
async function verified(proof) {
  try {
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: ALGORITHMS,
      requiredClaims: ['jti', 'htm', 'htu', 'iat', 'ath'],
    });
    const jwk = protectedHeader.jwk;
    if (jwk === undefined || PRIVATE_MEMBERS.some((member) => member in jwk)) {
      throw new InvalidDPoPProofError('jwk');
    }
    return { payload, jwk };
  } catch (error) {
    if (error instanceof errors.JOSEError || error instanceof TypeError) {
      throw new InvalidDPoPProofError('signature');
    }
    throw error;
  }
}

/**
 * `url` as RFC 9449 §4.3 compares it: no query or fragment, scheme and host in lower case, the
 * scheme's default port left out.
 * @param {string} url
 */
export function normalized(url) {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '';
  }
}

/**
 * `ath`: the base64url SHA-256 of the access token (RFC 9449 §4.2).
 * @param {string} token
 */
export function tokenHash(token) {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}
