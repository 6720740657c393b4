/**
 * Why a request is refused, with its HTTP shape (RFC 6750 §3, RFC 6585 §4).
 *
 * One class per answer. Each carries a fixed public description and an internal `reason` (a
 * verify code, the failed token check) for the API's own logs; neither ever holds the
 * credential. `render(realm)` turns any of them into `{ status, headers, body }`.
 */

/**
 * @typedef {object} Rendered
 * @property {number} status
 * @property {Record<string, string>} headers
 * @property {string} body
 */

/** Base class: the credential is not valid (401 `invalid_token`). */
export class AuthError extends Error {
  /** @type {number} */
  status = 401;
  /** @type {string | null} */
  error = 'invalid_token';
  /** @type {string} */
  description = 'the access token or API key is not valid';
  /** Whether the answer carries a `WWW-Authenticate` challenge, of `scheme`. */
  challenge = true;
  scheme = 'Bearer';

  /** @param {string} [reason] what failed, for the API's logs (never the credential) */
  constructor(reason = '') {
    super(reason);
    this.name = new.target.name;
    this.reason = reason;
  }

  /** @returns {string[]} */
  challengeParams() {
    return this.error ? [`error="${this.error}"`] : [];
  }

  /** @returns {Record<string, string>} */
  extraHeaders() {
    return {};
  }

  /**
   * @param {string} realm
   * @returns {Rendered}
   */
  render(realm) {
    /** @type {Record<string, string>} */
    const headers = {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      ...this.extraHeaders(),
    };
    if (this.challenge) {
      const params = [`realm="${quoted(realm)}"`, ...this.challengeParams()].join(', ');
      headers['www-authenticate'] = `${this.scheme} ${params}`;
    }
    const body = { error: this.error ?? 'unauthorized', error_description: this.description };
    return { status: this.status, headers, body: JSON.stringify(body) };
  }
}

/** RFC 6750 §3.1 `invalid_token`: expired, revoked, malformed, or not from this issuer. */
export class InvalidTokenError extends AuthError {}

/** RFC 9449 §7.1: a DPoP-bound token came without a good proof of its key. */
export class InvalidDPoPProofError extends AuthError {
  error = 'invalid_dpop_proof';
  description = 'the DPoP proof is missing or not valid for this request and token';
  scheme = 'DPoP';
}

/** No credential at all: 401 with a bare challenge, no error code (RFC 6750 §3.1). */
export class CredentialsRequiredError extends AuthError {
  error = null;
  description = 'authentication is required: a Bearer token or an API key';
}

/** RFC 6750 §3.1 `invalid_request`: e.g. credentials sent in more than one way. */
export class InvalidRequestError extends AuthError {
  status = 400;
  error = 'invalid_request';
  description = 'send exactly one credential: a Bearer token or one API key';
}

/** RFC 6750 §3.1 `insufficient_scope`: a known caller without a permission it needs. */
export class InsufficientScopeError extends AuthError {
  status = 403;
  error = 'insufficient_scope';

  /** @param {readonly string[]} required */
  constructor(required) {
    super(required.join(' '));
    this.required = [...required];
    this.description = `this request needs the permission(s): ${required.join(' ')}`;
  }

  /** @returns {string[]} */
  challengeParams() {
    return [...super.challengeParams(), `scope="${quoted(this.required.join(' '))}"`];
  }
}

/** The API key is over its rate limit: 429 with `Retry-After` (RFC 6585 §4). */
export class RateLimitedError extends AuthError {
  status = 429;
  error = 'rate_limited';
  description = 'the API key is over its rate limit; retry later';
  challenge = false;

  /**
   * @param {string} [reason]
   * @param {{ retryAfter?: number }} [options] seconds until the limit resets
   */
  constructor(reason = '', { retryAfter = 1 } = {}) {
    super(reason);
    this.retryAfter = Math.max(retryAfter, 1);
  }

  /** @returns {Record<string, string>} */
  extraHeaders() {
    return { 'retry-after': String(this.retryAfter) };
  }
}

/** Gatepass could not be asked (down, or the verify client misconfigured): 503. */
export class UnavailableError extends AuthError {
  status = 503;
  error = 'temporarily_unavailable';
  description = 'the credential cannot be checked right now; retry shortly';
  challenge = false;

  /** @returns {Record<string, string>} */
  extraHeaders() {
    return { 'retry-after': '2' };
  }
}

/**
 * A value safe inside an RFC 7235 quoted-string (realms and scopes never need escapes).
 * @param {string} value
 */
function quoted(value) {
  return value.replace(/[\\"]/g, '');
}
