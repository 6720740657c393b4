// Where a request carries its credential: each place, the query kept as sent, two = invalid_request.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { fromRawHeaders, one, splitUrl } from '../src/credentials.js';
import { InvalidRequestError } from '../src/errors.js';

test('a Bearer token is read from Authorization, whatever the scheme case', () => {
  assert.deepEqual(fromRawHeaders(['Authorization', 'bearer  abc.def.ghi ']), [{ kind: 'bearer', value: 'abc.def.ghi' }]);
  assert.deepEqual(fromRawHeaders(['authorization', 'Bearer']), [{ kind: 'bearer', value: '' }]);
});

test('other Authorization schemes are left alone', () => {
  assert.deepEqual(fromRawHeaders(['Authorization', 'Basic dXNlcjpwYXNz', 'Accept', '*/*']), []);
});

test('an API key is read from Authorization-PSK and X-API-Key', () => {
  assert.deepEqual(fromRawHeaders(['Authorization-PSK', ' gpk_a ']), [{ kind: 'api_key', value: 'gpk_a' }]);
  assert.deepEqual(fromRawHeaders(['x-api-key', 'gpk_b']), [{ kind: 'api_key', value: 'gpk_b' }]);
});

test('each occurrence of a header counts', () => {
  assert.equal(fromRawHeaders(['X-API-Key', 'gpk_a', 'X-API-Key', 'gpk_b']).length, 2);
});

test('the query key is taken out and the rest of the target kept as sent', () => {
  const { keys, url } = splitUrl('/nql?page=2&apikey=gpk_a%2Bb+c&sort=na%20me');
  assert.deepEqual(keys, [{ kind: 'api_key', value: 'gpk_a+b c' }]);
  assert.equal(url, '/nql?page=2&sort=na%20me');
});

test('a target whose only parameter is the key loses its question mark', () => {
  assert.equal(splitUrl('/nql?apikey=gpk_a').url, '/nql');
});

test('an encoded parameter name is the apikey parameter all the same', () => {
  assert.deepEqual(splitUrl('/nql?%61pikey=gpk_a').keys, [{ kind: 'api_key', value: 'gpk_a' }]);
});

test('an apikey without a value is an empty key, and bad escapes are kept', () => {
  assert.deepEqual(splitUrl('/nql?apikey').keys, [{ kind: 'api_key', value: '' }]);
  assert.deepEqual(splitUrl('/nql?apikey=%zz').keys, [{ kind: 'api_key', value: '%zz' }]);
});

test('a target without the key is returned unchanged', () => {
  assert.deepEqual(splitUrl('/nql?apikeys=1&x=apikey'), { keys: [], url: '/nql?apikeys=1&x=apikey' });
  assert.deepEqual(splitUrl('/nql'), { keys: [], url: '/nql' });
});

test('one credential is the one; none is null', () => {
  assert.equal(one([]), null);
  assert.deepEqual(one([{ kind: 'bearer', value: 't' }]), { kind: 'bearer', value: 't' });
});

test('two credentials are an invalid request that names no credential', () => {
  const found = [{ kind: 'bearer', value: 'secret-token' }, ...splitUrl('/?apikey=gpk_secret').keys];
  assert.throws(() => one(/** @type {any} */ (found)), (error) => {
    assert.ok(error instanceof InvalidRequestError);
    assert.equal(error.reason, '2 credentials');
    assert.ok(!error.message.includes('secret'));
    return true;
  });
});
