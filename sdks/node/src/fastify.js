/**
 * Fastify (v5) hooks: `gatepass(verifier).requires("nql")` is a `preHandler` that authenticates
 * the request and checks the caller's permissions; `plugin` authenticates every request that
 * carries a credential, in an `onRequest` hook, for the whole app.
 *
 * ```js
 * const auth = gatepass(verifier);
 * await app.register(auth.plugin); // optional
 * app.get('/nql/queries', { preHandler: auth.requires('nql') }, async (request) => ({
 *   caller: request.caller.subject,
 * }));
 * ```
 *
 * The caller (a `Caller`, or `null` without a credential) is `request.caller`. A request is
 * authenticated once, whichever hook runs first. The `apikey` query parameter is removed from
 * `request.url`, `request.raw.url` and `request.query`. Fastify logs each request's URL before
 * any hook runs: give its logger `serializers` that pass URLs through `redactApiKey` (README).
 * Refusals are answered with the RFC 6750 status, challenge and JSON body; any other error goes
 * to Fastify's error handling.
 */

import { AuthError } from './errors.js';
import * as guard from './guard.js';

/** @typedef {import('./caller.js').Caller} Caller */
/** @typedef {import('./verifier.js').GatepassVerifier} GatepassVerifier */
/** @typedef {import('fastify').FastifyInstance} FastifyInstance */
/** @typedef {import('fastify').FastifyReply} FastifyReply */
/** @typedef {import('fastify').FastifyRequest & { caller?: Caller | null }} FastifyRequest */
/** @typedef {(request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>} Hook */

const AUTHENTICATED = Symbol('gatepass.authenticated');

/**
 * @param {GatepassVerifier} verifier
 * @param {{ realm?: string }} [options] `realm` of the challenges (the verifier's audience)
 * @returns {{ authenticate: Hook, requires: (...permissions: string[]) => Hook, plugin: (app: FastifyInstance) => Promise<void> }}
 */
export function gatepass(verifier, { realm = verifier.audience } = {}) {
  /** @type {Hook} */
  const authenticate = async (request, reply) => {
    try {
      await settle(verifier, request);
    } catch (error) {
      return refuse(error, reply);
    }
    return undefined;
  };

  /** @param {...string} permissions */
  const requires = (...permissions) => {
    /** @type {Hook} */
    const hook = async (request, reply) => {
      try {
        guard.authorize(await settle(verifier, request), permissions);
      } catch (error) {
        return refuse(error, reply);
      }
      return undefined;
    };
    return hook;
  };

  /** @param {FastifyInstance} app */
  const plugin = async (app) => {
    if (!app.hasRequestDecorator('caller')) {
      app.decorateRequest('caller', null);
    }
    app.addHook('onRequest', authenticate);
  };
  // As `fastify-plugin` does: the hook applies to the app that registers the plugin, not only
  // to the plugin's own encapsulated context.
  Object.defineProperty(plugin, Symbol.for('skip-override'), { value: true });

  /**
   * @param {unknown} error
   * @param {FastifyReply} reply
   */
  function refuse(error, reply) {
    if (!(error instanceof AuthError)) {
      throw error;
    }
    verifier.logger.info(`request refused: ${error.status} ${error.reason || error.error}`);
    const { status, headers, body } = error.render(realm);
    return reply.code(status).headers(headers).send(body);
  }

  return { authenticate, requires, plugin };
}

/**
 * The caller of a request that went through the plugin or `requires` (`null` without a
 * credential); `undefined` if neither ran.
 * @param {FastifyRequest} request
 * @returns {Caller | null | undefined}
 */
export function callerOf(request) {
  return request.caller;
}

/**
 * Authenticate `request` unless done already, and strip its `apikey`.
 * @param {GatepassVerifier} verifier
 * @param {FastifyRequest & { [AUTHENTICATED]?: boolean }} request
 * @returns {Promise<Caller | null>}
 */
async function settle(verifier, request) {
  if (request[AUTHENTICATED]) {
    return request.caller ?? null;
  }
  const raw = request.raw;
  const { caller, url } = await guard.authenticate(verifier, {
    rawHeaders: raw.rawHeaders,
    url: raw.url ?? '/',
    ip: request.ip,
    method: request.method,
    // as Fastify reads them: its trustProxy option decides whether X-Forwarded-* count
    origin: `${request.protocol}://${request.host}`,
  });
  if (url !== raw.url) {
    stripApiKey(request, url);
  }
  request[AUTHENTICATED] = true;
  request.caller = caller;
  return caller;
}

/**
 * @param {FastifyRequest} request
 * @param {string} url the raw request's URL without its `apikey`
 */
function stripApiKey(request, url) {
  const raw = /** @type {import('node:http').IncomingMessage & { originalUrl?: string }} */ (request.raw);
  raw.url = url;
  if (typeof raw.originalUrl === 'string') {
    raw.originalUrl = guard.withoutApiKey(raw.originalUrl);
  }
  if (request.query !== null && typeof request.query === 'object') {
    delete (/** @type {Record<string, unknown>} */ (request.query)).apikey;
  }
}
