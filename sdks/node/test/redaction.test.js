// Log lines never repeat a query key.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { redactApiKey } from '../src/index.js';

test('every apikey value in a line is replaced', () => {
  assert.equal(
    redactApiKey('GET /nql?apikey=gpk_a&page=2&apikey=gpk_b HTTP/1.1'),
    'GET /nql?apikey=***&page=2&apikey=*** HTTP/1.1',
  );
});

test('lines without a key are left as they are', () => {
  assert.equal(redactApiKey('GET /nql?page=2&myapikey=1'), 'GET /nql?page=2&myapikey=1');
});
