/**
 * What the Express and Fastify edges share: find the request's one credential, verify it, and
 * check a caller's permissions, per RFC 6750.
 *
 * No credential: no caller (`null`); a route that `requires` one answers 401 with a bare
 * `Bearer` challenge. A credential that is not valid is refused at once, even on an open route:
 * 401 `invalid_token`. A caller without every needed permission: 403 `insufficient_scope`
 * naming them.
 */

import * as credentials from './credentials.js';
import { CredentialsRequiredError, InsufficientScopeError } from './errors.js';

/** @typedef {import('./caller.js').Caller} Caller */
/** @typedef {import('./verifier.js').GatepassVerifier} GatepassVerifier */

/**
 * The caller of a request (`null` without a credential), and its target without `apikey`.
 * `origin` (scheme and host as the client addressed them) and `method` are for DPoP proofs.
 * @param {GatepassVerifier} verifier
 * `target`: the path the client called, where a router sees only its own part in `url`.
 * @param {{ rawHeaders: readonly string[], url: string, ip?: string, method?: string, origin?: string, target?: string }} request
 * @returns {Promise<{ caller: Caller | null, url: string }>}
 */
export async function authenticate(verifier, { rawHeaders, url, ip, method = '', origin = '', target = url }) {
  const { keys, url: kept } = credentials.splitUrl(url);
  const found = credentials.one([...credentials.fromRawHeaders(rawHeaders), ...keys]);
  if (found === null) {
    return { caller: null, url: kept };
  }
  if (found.kind === 'api_key') {
    return { caller: await verifier.verifyApiKey(found.value, { ip }), url: kept };
  }
  const presentation = found.kind === 'dpop'
    ? { proofs: credentials.proofsOf(rawHeaders), method, url: origin + target }
    : null;
  return { caller: await verifier.verifyToken(found.value, presentation), url: kept };
}

/**
 * The caller, holding every one of `needed`.
 * @param {Caller | null} caller
 * @param {readonly string[]} needed
 * @returns {Caller}
 */
export function authorize(caller, needed) {
  if (caller === null) {
    throw new CredentialsRequiredError();
  }
  if (!caller.has(...needed)) {
    throw new InsufficientScopeError(needed);
  }
  return caller;
}

/**
 * A request target without its `apikey` query parameters.
 * @param {string} url
 */
export function withoutApiKey(url) {
  return credentials.splitUrl(url).url;
}
