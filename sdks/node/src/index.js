/**
 * The Gatepass SDK for Node.js APIs (resource servers).
 *
 * - `GatepassVerifier`: verifies Gatepass JWT access tokens locally (RFC 9068, cached JWKS) and
 *   API keys through the verify endpoint (short, bounded cache).
 * - `gatepass-sdk/express` and `gatepass-sdk/fastify`: `gatepass(verifier).requires("nql")`
 *   finds the credential (`Authorization: Bearer`, `Authorization-PSK`, `X-API-Key` or
 *   `?apikey=`), answers RFC 6750 errors, and hands the handler its `Caller`.
 * - `redactApiKey` keeps `?apikey=` values out of log lines.
 */

export { Caller } from './caller.js';
export {
  AuthError,
  CredentialsRequiredError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  RateLimitedError,
  UnavailableError,
} from './errors.js';
export { redactApiKey } from './redaction.js';
export { GatepassVerifier } from './verifier.js';
