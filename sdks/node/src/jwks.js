/**
 * The tenant's signing keys, fetched from its JWKS (RFC 7517 §5) and cached by `kid`.
 *
 * An unknown `kid` triggers one refetch (the tenant may have rotated its key), but never more
 * often than `minRefetchInterval`: a flood of made-up key IDs costs Gatepass at most one
 * request per interval. The set is also refreshed when older than `maxAge`, so a key that was
 * withdrawn stops being trusted. If Gatepass cannot be reached, the keys already held stay in use.
 */

import { monotonic } from './cache.js';
import { UnavailableError } from './errors.js';
import { fromJwk } from './verification-keys.js';

/** @typedef {import('./verification-keys.js').VerificationKey} VerificationKey */

/**
 * @typedef {object} Http
 * @property {typeof fetch} fetch
 * @property {number} timeout milliseconds
 * @property {AbortSignal} closed aborted when the verifier is closed
 * @property {Logger} log
 */

/**
 * @typedef {object} Logger
 * @property {(message: string) => void} info
 * @property {(message: string) => void} warn
 * @property {(message: string) => void} error
 */

export class KeySet {
  /** @type {Map<string, VerificationKey>} */
  #keys = new Map();
  #fetchedAt = -Infinity;
  #attemptedAt = -Infinity;
  #failing = false;
  /** @type {Promise<void> | null} the fetch under way, shared by every request waiting on it */
  #refreshing = null;

  /**
   * @param {string} url
   * @param {Http} http
   * @param {{ minRefetchInterval: number, maxAge: number, clock?: () => number }} options seconds
   */
  constructor(url, http, { minRefetchInterval, maxAge, clock = monotonic }) {
    this.url = url;
    this.http = http;
    this.minRefetchInterval = minRefetchInterval;
    this.maxAge = maxAge;
    this.clock = clock;
  }

  /**
   * The key, when held and the set is fresh: the hot path, no I/O.
   * @param {string} kid
   */
  cached(kid) {
    if (this.clock() - this.#fetchedAt >= this.maxAge) {
      return undefined;
    }
    return this.#keys.get(kid);
  }

  /**
   * The key for `kid`, fetching the set again if it is unknown or stale (rate-bounded).
   *
   * While Gatepass cannot be reached, keys already held stay trusted, and an unknown `kid` is
   * `UnavailableError`: not knowing is no verdict on the token.
   * @param {string} kid
   * @returns {Promise<VerificationKey | undefined>}
   */
  async get(kid) {
    const held = this.cached(kid);
    if (held !== undefined) {
      return held;
    }
    if (this.#refreshing === null && this.clock() - this.#attemptedAt >= this.minRefetchInterval) {
      this.#refreshing = this.#refresh().finally(() => {
        this.#refreshing = null;
      });
    }
    await this.#refreshing;
    const key = this.#keys.get(kid);
    if (key === undefined && this.#failing) {
      throw new UnavailableError('jwks unreachable');
    }
    return key;
  }

  async #refresh() {
    this.#attemptedAt = this.clock();
    try {
      this.#keys = await this.#fetch();
    } catch (error) {
      this.http.log.warn(`gatepass JWKS fetch failed: ${error instanceof Error ? error.name : 'error'}`);
      this.#failing = true;
      return;
    }
    this.#failing = false;
    this.#fetchedAt = this.#attemptedAt;
  }

  /** @returns {Promise<Map<string, VerificationKey>>} */
  async #fetch() {
    const response = await this.http.fetch(this.url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.any([this.http.closed, AbortSignal.timeout(this.http.timeout)]),
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`JWKS answered ${response.status}`);
    }
    const document = await response.json();
    const entries = document !== null && typeof document === 'object' ? document.keys : undefined;
    if (!Array.isArray(entries)) {
      throw new TypeError('not a JWKS');
    }
    const keys = new Map();
    for (const key of await Promise.all(entries.map(fromJwk))) {
      if (key !== null) {
        keys.set(key.kid, key);
      }
    }
    this.http.log.info(`gatepass JWKS fetched: ${keys.size} key(s)`);
    return keys;
  }
}
