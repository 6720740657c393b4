/**
 * A small LRU cache whose entries expire: bounded in size and in time, never in process memory
 * longer than their TTL. Keys are digests, values immutable outcomes.
 */

/** Seconds on a monotonic clock. */
export function monotonic() {
  return performance.now() / 1000;
}

/** @template V */
export class TtlCache {
  /** @type {Map<string, { expires: number, value: V }>} insertion order is recency order */
  #entries = new Map();
  #clock;

  /**
   * @param {number} maxSize how many entries are kept at most (the least recently used go first)
   * @param {{ clock?: () => number }} [options] seconds, monotonic
   */
  constructor(maxSize, { clock = monotonic } = {}) {
    if (!Number.isInteger(maxSize) || maxSize < 1) {
      throw new RangeError('maxSize must be an integer of at least 1');
    }
    this.maxSize = maxSize;
    this.#clock = clock;
  }

  /**
   * @param {string} key
   * @returns {V | undefined}
   */
  get(key) {
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      return undefined;
    }
    this.#entries.delete(key);
    if (entry.expires <= this.#clock()) {
      return undefined;
    }
    this.#entries.set(key, entry);
    return entry.value;
  }

  /**
   * Keep `value` for `ttl` seconds; a TTL of zero or less stores nothing (and forgets the key).
   * @param {string} key
   * @param {V} value
   * @param {number} ttl
   */
  put(key, value, ttl) {
    this.#entries.delete(key);
    if (!(ttl > 0)) {
      return;
    }
    this.#entries.set(key, { expires: this.#clock() + ttl, value });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.maxSize) {
        break;
      }
      this.#entries.delete(oldest);
    }
  }

  clear() {
    this.#entries.clear();
  }

  get size() {
    return this.#entries.size;
  }
}
