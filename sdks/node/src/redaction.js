/**
 * `redactApiKey`: keeps `?apikey=` values out of log lines.
 *
 * The SDK hides the query parameter from the application, but a server logs the request line
 * as the client sent it (Fastify's request log does, before any hook runs; `morgan` and
 * `pino-http` do from `req.originalUrl` or the raw request). Pass their URLs through this.
 */

import { QUERY_PARAMETER } from './credentials.js';

const IN_QUERY = new RegExp(`([?&]${QUERY_PARAMETER}=)[^&#\\s"']*`, 'g');

/**
 * `text` with the value of every `apikey` query parameter in it replaced by `***`.
 * @param {string} text
 */
export function redactApiKey(text) {
  return text.includes(QUERY_PARAMETER) ? text.replace(IN_QUERY, '$1***') : text;
}
