/**
 * `GatepassVerifier`: who is calling, from a Gatepass JWT access token or an API key.
 *
 * Tokens are verified locally (RFC 9068 §4) against the tenant's cached JWKS: no call to Gatepass
 * per request. API keys are verified by Gatepass's verify endpoint; its answers are cached for a
 * short time, keyed by a SHA-256 digest of the key (the key itself is never kept): a valid answer
 * for `keyTtl` seconds (so a revoked key may keep working that long here), a refusal for
 * `negativeTtl` seconds. Keys with a rate limit are not cached, so that Gatepass counts each use.
 */

import { createHash } from 'node:crypto';

import * as accessTokens from './access-tokens.js';
import * as apiKeys from './api-keys.js';
import { TtlCache } from './cache.js';
import { Caller } from './caller.js';
import { ProofChecker } from './dpop.js';
import { InvalidDPoPProofError, InvalidTokenError, UnavailableError } from './errors.js';
import { KeySet } from './jwks.js';

/** @typedef {import('./jwks.js').Logger} Logger */

/**
 * @typedef {object} VerifierOptions
 * @property {string} issuer `{GATEPASS_PUBLIC_URL}/realms/{tenant}`; the JWKS and the verify
 *   endpoint are found under it unless `jwksUrl` or `verifyUrl` say otherwise
 * @property {string | readonly string[]} audience the `aud` this API accepts (one, or several)
 * @property {{ clientId: string, clientSecret: string } | null} [verifyClient] a client holding
 *   `api_keys:verify`; without it, API keys are refused
 * @property {number} [keyTtl] seconds a valid API-key answer is reused (30)
 * @property {number} [negativeTtl] seconds a refused API-key answer is reused (5)
 * @property {number} [cacheSize] how many API-key answers are kept at most (10,000)
 * @property {number} [leeway] seconds of clock skew allowed on `exp` and `nbf` (10)
 * @property {number} [jwksRefetchInterval] the least seconds between two JWKS fetches for
 *   unknown key IDs (1)
 * @property {number} [jwksMaxAge] the JWKS is fetched again when older than this (600 s)
 * @property {string} [jwksUrl]
 * @property {string} [verifyUrl]
 * @property {number} [timeout] milliseconds for each request to Gatepass (5,000)
 * @property {typeof fetch} [fetch] the `fetch` to reach Gatepass with (the global one)
 * @property {Logger} [logger] where the SDK reports refusals and Gatepass's failures (nowhere);
 *   `console`, Fastify's `request.log` or a pino logger all fit
 * @property {() => number} [clock] wall time in seconds, for token expiry; the caches use a
 *   monotonic clock
 */

const SILENT = { info() {}, warn() {}, error() {} };

/** Verifies the credentials of one Gatepass tenant (one issuer) for one API (audience). */
export class GatepassVerifier {
  #keys;
  #verifyUrl;
  /** @type {string | null} */
  #verifyAuthorization;
  #ttls;
  /** @type {TtlCache<Caller | apiKeys.Rejection>} */
  #answers;
  #clock;
  #proofs;
  #closing = new AbortController();
  #http;

  /** @param {VerifierOptions} options */
  constructor({
    issuer,
    audience,
    verifyClient = null,
    keyTtl = 30,
    negativeTtl = 5,
    cacheSize = 10_000,
    leeway = 10,
    jwksRefetchInterval = 1,
    jwksMaxAge = 600,
    jwksUrl,
    verifyUrl,
    timeout = 5000,
    fetch = globalThis.fetch,
    logger = SILENT,
    clock = () => Date.now() / 1000,
  }) {
    const base = issuer.replace(/\/+$/, '');
    const audiences = typeof audience === 'string' ? [audience] : [...audience];
    if (audiences.length === 0) {
      throw new TypeError('audience names at least one audience');
    }
    /** The first audience: the default realm of the `WWW-Authenticate` challenges. */
    this.audience = audiences[0];
    /** @type {accessTokens.Expected} */
    this.expected = Object.freeze({ issuer: base, audiences, leeway });
    this.logger = logger;
    this.#http = { fetch, timeout, closed: this.#closing.signal, log: logger };
    this.#keys = new KeySet(jwksUrl ?? `${base}/protocol/openid-connect/certs`, this.#http, {
      minRefetchInterval: jwksRefetchInterval,
      maxAge: jwksMaxAge,
    });
    this.#verifyUrl = verifyUrl ?? `${base}/api-keys/verify`;
    this.#verifyAuthorization = verifyClient
      ? apiKeys.basicAuthorization(verifyClient.clientId, verifyClient.clientSecret)
      : null;
    this.#ttls = { positiveTtl: keyTtl, negativeTtl };
    this.#answers = new TtlCache(cacheSize);
    this.#clock = clock;
    this.#proofs = new ProofChecker({ clock });
  }

  /**
   * The caller behind a JWT access token; `InvalidTokenError` if it is not valid.
   * `presentation`: the request's DPoP proofs, method and URL, for a token sent as
   * `Authorization: DPoP` (a token bound to a key needs one; `null` for a `Bearer` token).
   * @param {string} token
   * @param {import('./dpop.js').Presentation | null} [presentation]
   * @returns {Promise<Caller>}
   */
  async verifyToken(token, presentation = null) {
    this.#open();
    const header = accessTokens.screen(token);
    const key = this.#keys.cached(header.kid) ?? (await this.#keys.get(header.kid));
    if (key === undefined) {
      throw new InvalidTokenError('unknown kid');
    }
    const claims = await accessTokens.verifiedClaims(token, key, header, this.expected, this.#clock());
    await this.#checkBinding(claims, token, presentation);
    return accessTokens.callerOf(claims);
  }

  /**
   * A token bound to a key (`cnf`) needs a proof of it; a token sent as `DPoP` must be bound.
   * @param {Record<string, unknown>} claims
   * @param {string} token
   * @param {import('./dpop.js').Presentation | null} presentation
   */
  async #checkBinding(claims, token, presentation) {
    const cnf = /** @type {{ jkt?: unknown } | undefined} */ (claims.cnf);
    if (presentation === null) {
      if (cnf !== undefined) {
        throw new InvalidTokenError('cnf'); // a bound token is never good as a bearer token
      }
      return;
    }
    if (typeof cnf !== 'object' || cnf === null || cnf.jkt === undefined) {
      throw new InvalidDPoPProofError('not bound');
    }
    await this.#proofs.check(presentation, token, cnf.jkt);
  }

  /**
   * The caller behind an API key sent from `ip` (needed for a key with an IP allowlist; an
   * answer that depends on it is never reused). A cached answer costs one hash and one lookup.
   * @param {string} key
   * @param {{ ip?: string }} [options]
   * @returns {Promise<Caller>}
   */
  async verifyApiKey(key, { ip } = {}) {
    this.#open();
    const digest = createHash('sha256').update(key, 'utf8').digest('base64');
    const outcome = this.#answers.get(digest) ?? (await this.#ask(key, digest, ip));
    if (outcome instanceof Caller) {
      return outcome;
    }
    throw outcome.error(this.#clock());
  }

  /**
   * @param {string} key
   * @param {string} digest
   * @param {string | undefined} ip
   * @returns {Promise<Caller | apiKeys.Rejection>}
   */
  async #ask(key, digest, ip) {
    if (this.#verifyAuthorization === null) {
      return new apiKeys.Rejection('API keys are not accepted: no verify client');
    }
    if (!apiKeys.isPlausible(key)) {
      return new apiKeys.Rejection('MALFORMED');
    }
    const answer = await apiKeys.ask(this.#http, this.#verifyUrl, this.#verifyAuthorization, key, ip);
    const { outcome, ttl } = apiKeys.verdict(answer, { ...this.#ttls, now: this.#clock() });
    this.#answers.put(digest, outcome, ttl);
    return outcome;
  }

  /** Aborts the requests to Gatepass under way and forgets every cached answer. */
  close() {
    this.#closing.abort();
    this.#answers.clear();
  }

  #open() {
    if (this.#closing.signal.aborted) {
      throw new UnavailableError('verifier closed');
    }
  }
}
