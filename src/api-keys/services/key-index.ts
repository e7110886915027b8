/** A key's service account by name; one shared object per account in the index. */
export interface AccountRef {
  readonly realm: string;
  readonly clientId: string;
}

/**
 * A key's uses not yet written (see UsageBuffer): kept on the key's record, so counting a use
 * looks nothing up. Set, and changed, only by the usage buffer.
 */
export interface UsageCounted {
  readonly id: string;
  uses?: number;
  lastUse?: number;
}

/** What a verification needs to know about a key. Never the key or its hash. */
export interface KeyRecord extends UsageCounted {
  readonly id: string;
  readonly account: AccountRef;
  readonly scopes: readonly string[];
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  readonly revokedAt: number | null;
}

/**
 * Heap bytes one indexed key takes, measured with 1,000,000 keys of 1,000 accounts (the Map entry,
 * its 32-character key, the record and its id; accounts and scope lists shared): 222 bytes on
 * Node 20 (x64), 16 of them the record's two usage fields, rounded up. The memory budget divides
 * by it: 1M keys fit in 220 MB (MiB).
 */
export const BYTES_PER_KEY = 230;

/**
 * The index is keyed by the first 128 bits (32 hex digits) of a key's HMAC-SHA256: a third less
 * memory than the whole hash, and a collision among a million keys is about 2^-88 likely; forging
 * one still needs the pepper.
 */
const INDEX_KEY_LENGTH = 32;

/** Distinct strings and scope lists kept shared; beyond, each record holds its own copy. */
const MAX_SHARED = 100_000;

/**
 * Every live key an instance may verify, by hash, in memory, within a memory budget
 * (KEYSMITH_KEY_INDEX_MEMORY_MB divided by BYTES_PER_KEY). A key beyond the budget is not held:
 * verification then looks it up by query, as for a key the index has not learned yet. Realm,
 * clientId and scope lists are shared between records, since many keys hold the same ones.
 */
export class KeyIndex {
  private readonly keys = new Map<string, KeyRecord>();
  private readonly accounts = new Map<string, AccountRef>();
  private readonly strings = new Map<string, string>();
  private readonly scopeLists = new Map<string, readonly string[]>();
  readonly maxKeys: number;

  constructor(memoryBytes: number) {
    this.maxKeys = Math.max(0, Math.floor(memoryBytes / BYTES_PER_KEY));
  }

  get size(): number {
    return this.keys.size;
  }

  /** No room for another key. */
  get full(): boolean {
    return this.keys.size >= this.maxKeys;
  }

  get(hash: string): KeyRecord | undefined {
    return this.keys.get(hash.slice(0, INDEX_KEY_LENGTH));
  }

  /**
   * Adds or replaces the record of `hash`; false when a new key does not fit the budget. Only live
   * keys are held: a revoked record removes the key instead.
   */
  put(hash: string, record: KeyRecord): boolean {
    const key = flat(hash.slice(0, INDEX_KEY_LENGTH));
    if (record.revokedAt !== null) {
      this.keys.delete(key);
      return false;
    }
    if (!this.keys.has(key) && this.full) return false;
    this.keys.set(key, {
      id: flat(record.id),
      account: this.account(record.account),
      scopes: this.sharedScopes(record.scopes),
      expiresAt: record.expiresAt,
      revokedAt: null,
      uses: 0,
      lastUse: 0,
    });
    return true;
  }

  delete(hash: string): boolean {
    return this.keys.delete(hash.slice(0, INDEX_KEY_LENGTH));
  }

  clear(): void {
    this.keys.clear();
  }

  private account(ref: AccountRef): AccountRef {
    const name = `${ref.realm}/${ref.clientId}`;
    const found = this.accounts.get(name);
    if (found) return found;
    const account = Object.freeze({ realm: this.shared(ref.realm), clientId: this.shared(ref.clientId) });
    if (this.accounts.size < MAX_SHARED) this.accounts.set(name, account);
    return account;
  }

  private shared(value: string): string {
    const found = this.strings.get(value);
    if (found !== undefined) return found;
    if (this.strings.size < MAX_SHARED) this.strings.set(value, value);
    return value;
  }

  private sharedScopes(scopes: readonly string[]): readonly string[] {
    const id = scopes.join(' ');
    const found = this.scopeLists.get(id);
    if (found) return found;
    const list = Object.freeze(scopes.map((scope) => this.shared(scope)));
    if (this.scopeLists.size < MAX_SHARED) this.scopeLists.set(id, list);
    return list;
  }
}

/** A copy of `value` in one piece: a slice or a concatenation would keep its parts alive. */
function flat(value: string): string {
  return Buffer.from(value, 'latin1').toString('latin1');
}
