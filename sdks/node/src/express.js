/**
 * Express middleware (Express 4 and 5): `gatepass(verifier).requires("nql")` authenticates the
 * request and checks the caller's permissions before the handler runs.
 *
 * ```js
 * const auth = gatepass(verifier);
 * app.use(auth.authenticate); // optional: every request that carries a credential
 * app.get('/nql/queries', auth.requires('nql'), (req, res) => res.json({ caller: req.caller.subject }));
 * ```
 *
 * The caller (a `Caller`, or `null` without a credential) is `req.caller`. A request is
 * authenticated once, whichever of the two runs first. The `apikey` query parameter is removed
 * from `req.url` and `req.originalUrl` (and from `req.query` on Express 4, which parses it before
 * any middleware), so that the application's logs and error reports cannot repeat the key.
 * Refusals are answered here, with the RFC 6750 status, challenge and JSON body; any other error
 * goes to Express's error handling.
 */

import { AuthError } from './errors.js';
import * as guard from './guard.js';

/** @typedef {import('./caller.js').Caller} Caller */
/** @typedef {import('./verifier.js').GatepassVerifier} GatepassVerifier */

/**
 * The parts of Express's request the SDK uses: an Express request fits it.
 * @typedef {import('node:http').IncomingMessage & { url: string, originalUrl?: string, query?: unknown, ip?: string, protocol?: string, caller?: Caller | null }} Request
 */
/** @typedef {import('node:http').ServerResponse} Response */
/** @typedef {(error?: unknown) => void} Next */
/** @typedef {(req: Request, res: Response, next: Next) => void} Middleware */

const AUTHENTICATED = Symbol('gatepass.authenticated');

/**
 * @param {GatepassVerifier} verifier
 * @param {{ realm?: string }} [options] `realm` of the challenges (the verifier's audience)
 * @returns {{ authenticate: Middleware, requires: (...permissions: string[]) => Middleware }}
 */
export function gatepass(verifier, { realm = verifier.audience } = {}) {
  /** @type {Middleware} */
  const authenticate = (req, res, next) => {
    settle(verifier, req).then(() => next(), (error) => refuse(error, res, next));
  };

  /** @param {...string} permissions */
  const requires = (...permissions) => {
    /** @type {Middleware} */
    const middleware = (req, res, next) => {
      settle(verifier, req)
        .then((caller) => guard.authorize(caller, permissions))
        .then(() => next(), (error) => refuse(error, res, next));
    };
    return middleware;
  };

  /**
   * @param {unknown} error
   * @param {Response} res
   * @param {Next} next
   */
  function refuse(error, res, next) {
    if (!(error instanceof AuthError)) {
      next(error);
      return;
    }
    verifier.logger.info(`request refused: ${error.status} ${error.reason || error.error}`);
    const { status, headers, body } = error.render(realm);
    res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  }

  return { authenticate, requires };
}

/**
 * The caller of a request that went through `authenticate` or `requires` (`null` without a
 * credential); `undefined` if neither ran.
 * @param {Request} req
 * @returns {Caller | null | undefined}
 */
export function callerOf(req) {
  return req.caller;
}

/**
 * Authenticate `req` unless done already, and strip its `apikey`.
 * @param {GatepassVerifier} verifier
 * @param {Request & { [AUTHENTICATED]?: boolean }} req
 * @returns {Promise<Caller | null>}
 */
async function settle(verifier, req) {
  if (req[AUTHENTICATED]) {
    return req.caller ?? null;
  }
  const ip = req.ip ?? req.socket?.remoteAddress; // Express's req.ip follows its 'trust proxy'
  const { caller, url } = await guard.authenticate(verifier, {
    rawHeaders: req.rawHeaders,
    url: req.url,
    ip,
    method: req.method,
    // as Express reads them: its 'trust proxy' setting decides whether X-Forwarded-* count
    origin: `${req.protocol ?? 'http'}://${req.headers.host ?? ''}`,
    target: req.originalUrl ?? req.url,
  });
  if (url !== req.url) {
    stripApiKey(req, url);
  }
  req[AUTHENTICATED] = true;
  req.caller = caller;
  return caller;
}

/**
 * @param {Request} req
 * @param {string} url `req.url` without its `apikey`
 */
function stripApiKey(req, url) {
  req.url = url;
  if (typeof req.originalUrl === 'string') {
    req.originalUrl = guard.withoutApiKey(req.originalUrl);
  }
  // Express 4 parsed the query into an own property before any middleware; Express 5 parses
  // it from `req.url` on each read.
  if (Object.hasOwn(req, 'query') && req.query !== null && typeof req.query === 'object') {
    delete (/** @type {Record<string, unknown>} */ (req.query)).apikey;
  }
}
