// Gets a token from Gatepass with oauth4webapi, as an integration would: discovery, the client
// credentials grant with private_key_jwt, and, if asked, a DPoP proof (retrying once when the
// server asks for a nonce). Reads its settings as JSON on stdin; writes the outcome as JSON.
//
//   { "issuer": "...", "client_id": "...", "private_jwk": {...}, "kid": "...",
//     "dpop": true, "scope": "nql" }
//   -> { "token": {...token response}, "nonce_retries": 0, "dpop_jkt": "..." }
//   or { "error": "...", "error_description": "..." }
import * as oauth from 'oauth4webapi'
import { readFileSync } from 'node:fs'

const settings = JSON.parse(readFileSync(0, 'utf8'))
const insecure = { [oauth.allowInsecureRequests]: true } // the test server is plain http on 127.0.0.1

const issuer = new URL(settings.issuer)
const as = await oauth.processDiscoveryResponse(
  issuer,
  await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }),
)
const client = { client_id: settings.client_id }
const algorithm = { EC: { name: 'ECDSA', namedCurve: 'P-256' }, RSA: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } }[settings.private_jwk.kty]
const key = await crypto.subtle.importKey('jwk', settings.private_jwk, algorithm, false, ['sign'])
const clientAuth = oauth.PrivateKeyJwt({ key, kid: settings.kid })

const options = { ...insecure }
let dpopKeys
if (settings.dpop) {
  dpopKeys = await oauth.generateKeyPair('ES256', { extractable: true })
  options.DPoP = oauth.DPoP(client, dpopKeys)
}

const parameters = settings.scope ? { scope: settings.scope } : {}
let nonceRetries = 0
async function grant() {
  const response = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, parameters, options)
  return oauth.processClientCredentialsResponse(as, client, response)
}

try {
  let token
  try {
    token = await grant()
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err
    nonceRetries += 1 // the handle has kept the nonce of the answer: one retry with it
    token = await grant()
  }
  const outcome = { token, nonce_retries: nonceRetries }
  if (dpopKeys) outcome.dpop_jkt = await options.DPoP.calculateThumbprint()
  process.stdout.write(JSON.stringify(outcome))
} catch (err) {
  process.stdout.write(JSON.stringify({ error: err.error ?? err.name, error_description: err.error_description ?? err.message }))
}
