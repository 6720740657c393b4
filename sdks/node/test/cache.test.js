// The API-key answer cache: bounded in size (least recently used out first) and in time.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { TtlCache } from '../src/cache.js';

function clocked() {
  const clock = { now: 100, read: () => clock.now };
  return clock;
}

test('an entry is kept for its TTL, and no longer', () => {
  const clock = clocked();
  const cache = new TtlCache(10, { clock: clock.read });
  cache.put('a', 1, 5);
  clock.now = 104.9;
  assert.equal(cache.get('a'), 1);
  clock.now = 105;
  assert.equal(cache.get('a'), undefined);
  assert.equal(cache.size, 0);
});

test('a TTL of zero or less stores nothing and forgets what was there', () => {
  const cache = new TtlCache(10);
  cache.put('a', 1, 60);
  cache.put('a', 2, 0);
  cache.put('b', 3, -1);
  cache.put('c', 4, Number.NaN);
  assert.equal(cache.size, 0);
});

test('past its size, the least recently used entry goes first', () => {
  const cache = new TtlCache(2);
  cache.put('a', 1, 60);
  cache.put('b', 2, 60);
  cache.get('a');
  cache.put('c', 3, 60);
  assert.deepEqual([cache.get('a'), cache.get('b'), cache.get('c')], [1, undefined, 3]);
  assert.equal(cache.size, 2);
});

test('putting a key again refreshes it rather than growing the cache', () => {
  const cache = new TtlCache(2);
  cache.put('a', 1, 60);
  cache.put('b', 2, 60);
  cache.put('a', 3, 60);
  cache.put('c', 4, 60);
  assert.deepEqual([cache.get('a'), cache.get('b'), cache.get('c')], [3, undefined, 4]);
});

test('clear empties the cache', () => {
  const cache = new TtlCache(2);
  cache.put('a', 1, 60);
  cache.clear();
  assert.equal(cache.get('a'), undefined);
});

test('a cache holds at least one entry', () => {
  assert.throws(() => new TtlCache(0), RangeError);
  assert.throws(() => new TtlCache(1.5), RangeError);
});
