/** Who is calling: what a handler receives once a token or an API key has been verified. */

/** @typedef {'oauth_client' | 'api_key'} CallerKind */

/**
 * An authenticated caller, frozen.
 *
 * `subject` is the OAuth client ID or the API key's ID (never the key). `groups` are the client
 * groups the credential is restricted to; empty means unrestricted. `claims` holds a token's
 * verified JWT claims (empty for an API key). `expiresAt` is in seconds since the epoch.
 */
export class Caller {
  /**
   * @param {object} fields
   * @param {string} fields.subject
   * @param {CallerKind} fields.kind
   * @param {Iterable<string>} fields.permissions
   * @param {readonly string[]} [fields.groups]
   * @param {string | null} [fields.name]
   * @param {string | null} [fields.owner]
   * @param {number | null} [fields.expiresAt]
   * @param {Readonly<Record<string, unknown>>} [fields.claims]
   */
  constructor({ subject, kind, permissions, groups = [], name = null, owner = null, expiresAt = null, claims = {} }) {
    this.subject = subject;
    this.kind = kind;
    /** @type {ReadonlySet<string>} */
    this.permissions = readOnlySet(permissions);
    /** @type {readonly string[]} */
    this.groups = Object.freeze([...groups]);
    this.name = name;
    this.owner = owner;
    this.expiresAt = expiresAt;
    /** @type {Readonly<Record<string, unknown>>} */
    this.claims = Object.freeze({ ...claims });
    Object.freeze(this);
  }

  /**
   * Whether the caller holds every one of `permissions`.
   * @param {...string} permissions
   */
  has(...permissions) {
    return permissions.every((permission) => this.permissions.has(permission));
  }

  /**
   * Whether data of client group `group` is within the caller's reach.
   * @param {string} group
   */
  canAccess(group) {
    return this.groups.length === 0 || this.groups.includes(group);
  }

  /** A plain object for logs and JSON answers: permissions sorted, claims left out. */
  toJSON() {
    return {
      subject: this.subject,
      kind: this.kind,
      permissions: [...this.permissions].sort(),
      groups: this.groups,
      name: this.name,
      owner: this.owner,
      expiresAt: this.expiresAt,
    };
  }
}

/**
 * A set whose own `add`, `delete` and `clear` refuse: one cached caller serves many requests, so
 * a handler must not be able to change what the next one is allowed.
 * @param {Iterable<string>} values
 * @returns {ReadonlySet<string>}
 */
function readOnlySet(values) {
  const set = new Set(values);
  for (const method of ['add', 'delete', 'clear']) {
    Object.defineProperty(set, method, {
      value: () => {
        throw new TypeError("a caller's permissions are read-only");
      },
    });
  }
  return Object.freeze(set);
}
