// The decision both framework edges share: no caller, a caller lacking a permission, or enough.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { authorize, withoutApiKey } from '../src/guard.js';
import { Caller, CredentialsRequiredError, InsufficientScopeError } from '../src/index.js';

const caller = new Caller({ subject: 'gpk_id', kind: 'api_key', permissions: ['nql'] });

test('no caller is a request for credentials', () => {
  assert.throws(() => authorize(null, ['nql']), CredentialsRequiredError);
  assert.throws(() => authorize(null, []), CredentialsRequiredError);
});

test('a caller lacking a permission is refused, naming every permission needed', () => {
  assert.throws(() => authorize(caller, ['nql', 'workflows']), (error) => {
    assert.ok(error instanceof InsufficientScopeError);
    assert.deepEqual(error.required, ['nql', 'workflows']);
    return true;
  });
});

test('a caller holding every permission is handed on', () => {
  assert.equal(authorize(caller, ['nql']), caller);
  assert.equal(authorize(caller, []), caller);
});

test('a target loses its apikey parameters only', () => {
  assert.equal(withoutApiKey('/api/x?apikey=gpk_a&b=1'), '/api/x?b=1');
  assert.equal(withoutApiKey('/api/x?b=1'), '/api/x?b=1');
});
