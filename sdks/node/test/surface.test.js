// The package's public names are pinned: changing them is a deliberate, reviewed act. Imported
// by the package's own name, through its `exports`, as an application would.
import assert from 'node:assert/strict';
import { test } from 'node:test';

test('the root entry point exports the verifier, the caller, the errors and the redaction', async () => {
  assert.deepEqual(Object.keys(await import('gatepass-sdk')).sort(), [
    'AuthError',
    'Caller',
    'CredentialsRequiredError',
    'GatepassVerifier',
    'InsufficientScopeError',
    'InvalidRequestError',
    'InvalidTokenError',
    'RateLimitedError',
    'UnavailableError',
    'redactApiKey',
  ]);
});

test('each framework has its own entry point with the same two names', async () => {
  assert.deepEqual(Object.keys(await import('gatepass-sdk/express')).sort(), ['callerOf', 'gatepass']);
  assert.deepEqual(Object.keys(await import('gatepass-sdk/fastify')).sort(), ['callerOf', 'gatepass']);
});

test('the internal modules are not reachable from outside', async () => {
  await assert.rejects(import('gatepass-sdk/src/cache.js'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
});
