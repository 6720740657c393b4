/**
 * Asking Gatepass's verify endpoint about an API key, and reading its answer.
 *
 * `POST {issuer}/api-keys/verify` with `{"key": ...}`, authenticated with HTTP Basic as a client
 * of the tenant holding `api_keys:verify`. The answer's code becomes a `Caller` (`VALID`) or a
 * refusal: 429 for `RATE_LIMITED`, 401 `invalid_token` for every other code. A failure to ask
 * (network, 5xx, our own client refused) is a 503, never a verdict on the key.
 */

import { isIP } from 'node:net';

import { Caller } from './caller.js';
import { InvalidTokenError, RateLimitedError, UnavailableError } from './errors.js';

export const MAX_KEY_LENGTH = 256; // as Gatepass: anything longer is not a key
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** @typedef {import('./jwks.js').Http} Http */

/** A cached refusal: each use builds a fresh error (no stack traces kept in the cache). */
export class Rejection {
  /**
   * @param {string} code
   * @param {number | null} [retryAfterEpoch] when a rate limit resets, in seconds since the epoch
   */
  constructor(code, retryAfterEpoch = null) {
    this.code = code;
    this.retryAfterEpoch = retryAfterEpoch;
    Object.freeze(this);
  }

  /** @param {number} now seconds since the epoch */
  error(now) {
    if (this.retryAfterEpoch !== null) {
      return new RateLimitedError(this.code, { retryAfter: Math.ceil(this.retryAfterEpoch - now) });
    }
    return new InvalidTokenError(this.code);
  }
}

/**
 * Gatepass's answer about one key, and how many seconds it may be reused.
 * @typedef {object} Verdict
 * @property {Caller | Rejection} outcome
 * @property {number} ttl
 */

/**
 * Cheap local screening: an API key is short, printable ASCII.
 * @param {string} key
 */
export function isPlausible(key) {
  return key.length <= MAX_KEY_LENGTH && PRINTABLE_ASCII.test(key);
}

/**
 * `client_secret_basic` (RFC 6749 §2.3.1): each part form-urlencoded, then Basic.
 * @param {string} clientId
 * @param {string} clientSecret
 */
export function basicAuthorization(clientId, clientSecret) {
  const raw = `${formEncoded(clientId)}:${formEncoded(clientSecret)}`;
  return `Basic ${Buffer.from(raw, 'utf8').toString('base64')}`;
}

/**
 * The verify endpoint's answer; `authorization` is the verify client's Basic header.
 * @param {Http} http
 * @param {string} url
 * @param {string} authorization
 * @param {string} key
 * @param {string | undefined} [ip] the caller's address (for keys with an IP allowlist)
 * @returns {Promise<Record<string, unknown>>}
 */
export async function ask(http, url, authorization, key, ip) {
  let response;
  try {
    response = await http.fetch(url, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
      // Only an address: a server may name its peer otherwise (a Unix socket has none).
      body: JSON.stringify(ip && isIP(ip) ? { key, ip } : { key }),
      signal: AbortSignal.any([http.closed, AbortSignal.timeout(http.timeout)]),
    });
  } catch (error) {
    http.log.warn(`gatepass verify endpoint unreachable: ${error instanceof Error ? error.name : 'error'}`);
    throw new UnavailableError('verify endpoint unreachable');
  }
  if (response.status !== 200) {
    // 401/403 here mean our verify client is wrong: an operator problem, not the caller's.
    await response.body?.cancel();
    http.log.error(`gatepass verify endpoint answered ${response.status}`);
    throw new UnavailableError(`verify endpoint answered ${response.status}`);
  }
  let answer;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (answer === null || typeof answer !== 'object' || typeof answer.code !== 'string') {
    throw new UnavailableError('verify endpoint answered no code');
  }
  return answer;
}

/**
 * What an answer of the verify endpoint means, and for how long it holds.
 * @param {Record<string, unknown>} answer
 * @param {{ positiveTtl: number, negativeTtl: number, now: number }} options seconds
 * @returns {Verdict}
 */
export function verdict(answer, { positiveTtl, negativeTtl, now }) {
  const code = String(answer.code);
  if (answer.valid === true && code === 'VALID') {
    return valid(answer, positiveTtl, now);
  }
  if (code === 'RATE_LIMITED') {
    const reset = resetOf(answer, now);
    return { outcome: new Rejection(code, reset), ttl: Math.min(negativeTtl, reset - now) };
  }
  if (code === 'IP_NOT_ALLOWED') {
    return { outcome: new Rejection(code), ttl: 0 }; // the key may come from an allowed address
  }
  return { outcome: new Rejection(code), ttl: negativeTtl };
}

/**
 * @param {Record<string, unknown>} answer
 * @param {number} positiveTtl
 * @param {number} now
 * @returns {Verdict}
 */
function valid(answer, positiveTtl, now) {
  const caller = callerOf(answer);
  let ttl = positiveTtl;
  const restricted = Array.isArray(answer.allowed_ips) && answer.allowed_ips.length > 0;
  if ((answer.rate_limit !== undefined && answer.rate_limit !== null) || restricted) {
    ttl = 0; // every use must reach Gatepass, which counts it or checks its address
  }
  if (caller.expiresAt !== null) {
    ttl = Math.min(ttl, caller.expiresAt - now);
  }
  return { outcome: caller, ttl };
}

/** @param {Record<string, unknown>} answer */
function callerOf(answer) {
  const { key_id: keyId, scopes, groups, name, owner, expires_at: expiresAt } = answer;
  if (typeof keyId !== 'string' || !Array.isArray(scopes) || !Array.isArray(groups)) {
    throw new UnavailableError('verify endpoint answered an incomplete VALID');
  }
  const email = owner !== null && typeof owner === 'object' ? /** @type {{ email?: unknown }} */ (owner).email : null;
  return new Caller({
    subject: keyId,
    kind: 'api_key',
    permissions: scopes.map(String),
    groups: groups.map(String),
    name: name ? String(name) : null,
    owner: email ? String(email) : null,
    expiresAt: typeof expiresAt === 'number' ? expiresAt : null,
  });
}

/**
 * @param {Record<string, unknown>} answer
 * @param {number} now
 */
function resetOf(answer, now) {
  const limit = answer.rate_limit;
  const reset = limit !== null && typeof limit === 'object' ? /** @type {{ reset?: unknown }} */ (limit).reset : null;
  return typeof reset === 'number' ? reset : now + 1;
}

/**
 * `application/x-www-form-urlencoded` for one value (RFC 6749 Appendix B).
 * @param {string} value
 */
function formEncoded(value) {
  return new URLSearchParams([['', value]]).toString().slice(1);
}
