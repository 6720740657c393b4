// What a handler gets: permissions, group reach, a frozen value.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Caller } from '../src/index.js';

const caller = new Caller({ subject: 'gpc_1', kind: 'oauth_client', permissions: ['nql', 'workflows'], groups: ['emea'] });

test('has() needs every permission named', () => {
  assert.equal(caller.has('nql'), true);
  assert.equal(caller.has('nql', 'workflows'), true);
  assert.equal(caller.has('nql', 'spark'), false);
  assert.equal(caller.has(), true);
});

test('canAccess() is limited to the groups, when there are any', () => {
  assert.equal(caller.canAccess('emea'), true);
  assert.equal(caller.canAccess('americas'), false);
  const unrestricted = new Caller({ subject: 'k', kind: 'api_key', permissions: [] });
  assert.equal(unrestricted.canAccess('americas'), true);
});

test('a caller is frozen and serialises without its claims', () => {
  assert.throws(() => {
    /** @type {any} */ (caller).subject = 'someone else';
  }, TypeError);
  assert.deepEqual(JSON.parse(JSON.stringify(caller)), {
    subject: 'gpc_1',
    kind: 'oauth_client',
    permissions: ['nql', 'workflows'],
    groups: ['emea'],
    name: null,
    owner: null,
    expiresAt: null,
  });
});

test("a caller's permissions cannot be changed: the same caller serves many requests", () => {
  const permissions = /** @type {Set<string>} */ (caller.permissions);
  assert.throws(() => permissions.add('spark'), TypeError);
  assert.throws(() => permissions.delete('nql'), TypeError);
  assert.throws(() => permissions.clear(), TypeError);
  assert.equal(caller.has('nql', 'workflows'), true);
  assert.equal(caller.has('spark'), false);
});
