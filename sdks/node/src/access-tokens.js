/**
 * Checking a Gatepass JWT access token (RFC 9068 §4) against a key from the tenant's JWKS.
 *
 * The compact serialization (RFC 7515 §7.1) is screened here first, strictly: its size, its
 * alphabet, a canonical signature encoding (so that one signature has one spelling only), and
 * a header naming a key, an algorithm and the access-token type (RFC 9068 §2.1). `jose` then
 * checks the signature with the key's own algorithm and the registered claims (RFC 7519 §4.1);
 * the claims RFC 9068 requires besides are checked here.
 */

import { errors, jwtVerify } from 'jose';

import { Caller } from './caller.js';
import { InvalidTokenError } from './errors.js';

export const MAX_TOKEN_LENGTH = 8192;
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt']);
const BASE64URL = /^[A-Za-z0-9_-]+$/;
// RFC 4648 §3.5: the bits after the last full byte are zero, so the last character is one of these.
/** @type {Record<number, string | null>} */
const CANONICAL_LAST = { 0: null, 2: 'AQgw', 3: 'AEIMQUYcgkosw048' };
const REQUIRED_CLAIMS = ['exp', 'iat', 'sub', 'client_id', 'jti'];

/**
 * What every accepted token must say: who issued it, for whom, within which clock skew.
 * @typedef {object} Expected
 * @property {string} issuer
 * @property {readonly string[]} audiences
 * @property {number} leeway seconds
 */

/**
 * @typedef {object} Header
 * @property {string} kid
 * @property {string} alg
 */

/**
 * The token's `kid` and `alg`, once its shape and header are as an access token's must be.
 * @param {string} token
 * @returns {Header}
 */
export function screen(token) {
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new InvalidTokenError('malformed');
  }
  const segments = token.split('.');
  if (segments.length !== 3) {
    throw new InvalidTokenError('malformed');
  }
  if (!segments.every((segment) => BASE64URL.test(segment)) || !canonical(segments[2])) {
    throw new InvalidTokenError('base64url');
  }
  return header(segments[0]);
}

/**
 * The verified claims of `token`, signed with `key` under `alg`, as `expected` says.
 * @param {string} token
 * @param {{ alg: string, key: CryptoKey }} key
 * @param {Header} header
 * @param {Expected} expected
 * @param {number} now seconds since the epoch
 * @returns {Promise<Record<string, unknown>>}
 */
export async function verifiedClaims(token, key, header, expected, now) {
  if (header.alg !== key.alg) {
    throw new InvalidTokenError('alg');
  }
  try {
    const { payload } = await jwtVerify(token, key.key, {
      algorithms: [key.alg],
      issuer: expected.issuer,
      audience: [...expected.audiences],
      clockTolerance: expected.leeway,
      currentDate: new Date(now * 1000),
      requiredClaims: REQUIRED_CLAIMS,
    });
    for (const name of ['sub', 'client_id', 'jti']) {
      if (typeof payload[name] !== 'string') {
        throw new InvalidTokenError(name);
      }
    }
    return payload;
  } catch (error) {
    throw error instanceof errors.JOSEError ? new InvalidTokenError(reasonOf(error)) : error;
  }
}

/**
 * The caller a token's verified claims name.
 * @param {Record<string, unknown>} claims
 */
export function callerOf(claims) {
  const scope = claims.scope ?? '';
  const groups = claims.groups ?? [];
  if (typeof scope !== 'string' || !Array.isArray(groups)) {
    throw new InvalidTokenError('scope or groups');
  }
  if (!groups.every((group) => typeof group === 'string')) {
    throw new InvalidTokenError('groups');
  }
  return new Caller({
    subject: String(claims.client_id),
    kind: 'oauth_client',
    permissions: scope.split(' ').filter(Boolean),
    groups,
    expiresAt: Number(claims.exp),
    claims,
  });
}

/**
 * The failed check, named as the Python SDK names it.
 * @param {InstanceType<typeof errors.JOSEError>} error
 */
function reasonOf(error) {
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'signature';
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return 'alg';
  }
  if (error instanceof errors.JWTExpired) {
    return error.claim === 'exp' ? 'exp' : error.claim;
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.claim;
  }
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) {
    return 'json';
  }
  return error.code;
}

/**
 * `kid` and `alg` of an access token's header (RFC 9068 §4).
 * @param {string} segment
 * @returns {Header}
 */
function header(segment) {
  const decoded = json(segment);
  const { kid, typ, alg } = decoded;
  if (typeof kid !== 'string' || typeof typ !== 'string' || typeof alg !== 'string') {
    throw new InvalidTokenError('no kid, typ or alg');
  }
  if (!ACCESS_TOKEN_TYPES.has(typ.toLowerCase())) {
    throw new InvalidTokenError('not an access token');
  }
  if ('crit' in decoded) {
    throw new InvalidTokenError('crit'); // RFC 7515 §4.1.11: no extension is understood here
  }
  return { kid, alg };
}

/** @param {string} segment */
function canonical(segment) {
  const last = CANONICAL_LAST[segment.length % 4];
  if (last === undefined) {
    return false; // a length of 1 modulo 4 is no base64url at all
  }
  return last === null || last.includes(segment.at(-1) ?? '');
}

/**
 * @param {string} segment
 * @returns {Record<string, unknown>}
 */
function json(segment) {
  let value;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(segment, 'base64url')));
  } catch {
    throw new InvalidTokenError('json');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidTokenError('json');
  }
  return value;
}
