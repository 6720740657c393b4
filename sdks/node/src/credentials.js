/**
 * Where a request carries its credential (RFC 6750 §2).
 *
 * A Bearer token in `Authorization` (RFC 6750 §2.1), a DPoP-bound one as `Authorization: DPoP`
 * (RFC 9449 §7.1, its proof in the `DPoP` header), or an API key in `Authorization-PSK`,
 * `X-API-Key` or the `apikey` query parameter. RFC 6750 §2 lets a request use one method only;
 * two credentials (two headers, a header and the query, the query twice) are `invalid_request`.
 * Other `Authorization` schemes are left alone.
 *
 * Headers are read from Node's `rawHeaders`, which keeps each occurrence: `headers` would have
 * joined two `X-API-Key` lines into one value and dropped a second `Authorization`.
 */

import { InvalidRequestError } from './errors.js';

export const QUERY_PARAMETER = 'apikey';
const KEY_HEADERS = new Set(['authorization-psk', 'x-api-key']);

/**
 * @typedef {object} Credential
 * @property {'bearer' | 'dpop' | 'api_key'} kind `dpop`: a token sent as `Authorization: DPoP`
 * @property {string} value
 */

/**
 * The credentials in a request's headers, as Node's `rawHeaders` lists them (name, value, ...).
 * @param {readonly string[]} rawHeaders
 * @returns {Credential[]}
 */
export function fromRawHeaders(rawHeaders) {
  /** @type {Credential[]} */
  const found = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    const value = rawHeaders[i + 1].trim();
    if (name === 'authorization') {
      const space = value.indexOf(' ');
      const scheme = space === -1 ? value : value.slice(0, space);
      const kind = scheme.toLowerCase();
      if (kind === 'bearer' || kind === 'dpop') {
        found.push({ kind, value: space === -1 ? '' : value.slice(space + 1).trim() });
      }
    } else if (KEY_HEADERS.has(name)) {
      found.push({ kind: 'api_key', value });
    }
  }
  return found;
}

/**
 * The `DPoP` headers of a request (RFC 9449 §4.1: there must be one), as `rawHeaders` lists them.
 * @param {readonly string[]} rawHeaders
 * @returns {string[]}
 */
export function proofsOf(rawHeaders) {
  const proofs = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === 'dpop') {
      proofs.push(rawHeaders[i + 1].trim());
    }
  }
  return proofs;
}

/**
 * The API keys in a request target's query string, and the target without them.
 *
 * The rest of the target is kept character for character, so that what the application sees
 * (and may log) is the request as sent, minus the key.
 * @param {string} url the request target, e.g. `/nql?page=2&apikey=...`
 * @returns {{ keys: Credential[], url: string }}
 */
export function splitUrl(url) {
  const mark = url.indexOf('?');
  if (mark === -1) {
    return { keys: [], url };
  }
  /** @type {Credential[]} */
  const keys = [];
  const kept = [];
  for (const pair of url.slice(mark + 1).split('&')) {
    const equals = pair.indexOf('=');
    const name = equals === -1 ? pair : pair.slice(0, equals);
    if (formDecoded(name) === QUERY_PARAMETER) {
      keys.push({ kind: 'api_key', value: formDecoded(equals === -1 ? '' : pair.slice(equals + 1)) });
    } else {
      kept.push(pair);
    }
  }
  if (keys.length === 0) {
    return { keys, url };
  }
  const path = url.slice(0, mark);
  return { keys, url: kept.length > 0 ? `${path}?${kept.join('&')}` : path };
}

/**
 * The request's one credential, or `null` when it has none.
 * @param {readonly Credential[]} found
 * @returns {Credential | null}
 */
export function one(found) {
  if (found.length > 1) {
    throw new InvalidRequestError(`${found.length} credentials`);
  }
  return found[0] ?? null;
}

/**
 * A form-urlencoded component, decoded; malformed escapes are kept as they are (as Python's
 * `unquote_plus` does), so that a bad key is refused as a key rather than crash the request.
 * @param {string} component
 */
function formDecoded(component) {
  const spaced = component.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}
