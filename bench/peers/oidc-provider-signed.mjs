// oidc-provider for bench/signed_token.sh: client_credentials with a client that authenticates
// with private_key_jwt (RFC 7523 client assertions), DPoP (RFC 9449) enabled, JWT access tokens
// signed ES256 via features.resourceIndicators. Configured as the bench-peers harness'
// oidc-provider/server.mjs is, with the same oidc-provider version (bench/peers/package.json).
//
//   PORT=3001 CLUSTER=2 CLIENT_ID=bench-signed CLIENT_JWKS=client-jwks.json \
//     NODE_ENV=production node bench/peers/oidc-provider-signed.mjs
//
// CLIENT_JWKS: the client's public keys ({"keys": [...]}). CLUSTER=N forks N processes sharing
// the port (JWT access tokens are stateless; the default in-memory adapter, and so the store of
// used assertion and proof jti values, is per process). Listens on 127.0.0.1 only.
import cluster from 'node:cluster';
import crypto from 'node:crypto';
import fs from 'node:fs';

import { Provider } from 'oidc-provider';

// The access-token signing key, made once and given to every process of the cluster.
if (!process.env.SIGNING_JWK) {
  const jwk = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  process.env.SIGNING_JWK = JSON.stringify({ ...jwk, kid: 'bench-es256', alg: 'ES256', use: 'sig' });
}

const CLUSTER = Number(process.env.CLUSTER || 1);
if (CLUSTER > 1 && cluster.isPrimary) {
  for (let i = 0; i < CLUSTER; i += 1) cluster.fork();
  cluster.on('exit', (w, code, sig) => console.error(`worker ${w.process.pid} exited ${code ?? sig}`));
  const stop = () => { for (const w of Object.values(cluster.workers)) w.kill('SIGTERM'); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await new Promise(() => {});
}

const PORT = Number(process.env.PORT || 3001);
const HOST = '127.0.0.1';
const ISSUER = `http://${HOST}:${PORT}`;
const RESOURCE = 'urn:bench:api';
const CLIENT_ID = process.env.CLIENT_ID || 'bench-signed';
const clientJwks = JSON.parse(fs.readFileSync(process.env.CLIENT_JWKS, 'utf8'));
const signing = JSON.parse(process.env.SIGNING_JWK);

const configuration = {
  clients: [{
    client_id: CLIENT_ID,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: clientJwks,
    scope: 'api:read',
    id_token_signed_response_alg: 'ES256',
  }],
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  jwks: { keys: [signing] },
  cookies: { keys: ['bench-cookie-key-not-used-by-client-credentials'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    dPoP: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => RESOURCE,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) throw new Error('unknown resource');
        return {
          scope: 'api:read',
          audience: RESOURCE,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  scopes: ['api:read'],
  ttl: { ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL || 300 },
};

const provider = new Provider(ISSUER, configuration);
provider.on('server_error', (ctx, err) => { console.error('server_error', err); });
provider.listen(PORT, HOST, () => {
  console.log(`oidc-provider listening on ${ISSUER} NODE_ENV=${process.env.NODE_ENV} pid=${process.pid}`);
});
