import type { Tally, TallyCell } from '../../common/metrics/tally.js';
import { Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { AuditService } from '../../audit/index.js';
import {
  ApiKeyVerifier,
  type ApiKeyCheck,
  type ApiKeyCheckOptions,
  type ApiKeyFailureCode,
  type ApiKeyIdentity,
} from '../../auth/index.js';
import { Clock } from '../../common/time/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { MetricsRegistry } from '../../common/metrics/metrics.registry.js';
import { scopeExcess, scopesNow, type ScopeEnforcement } from '../api-key.view.js';
import { ApiKeyGenerationStrategy } from '../strategies/api-key-generation.strategy.js';
import { ApiKeyHashingStrategy, type HashLane } from '../strategies/api-key-hashing.strategy.js';
import { ApiKeyUsageService } from './api-key-usage.service.js';
import { FixedWindowLimiter, type LimitDecision } from './fixed-window-limiter.js';
import { SharedLimiter } from './shared-limiter.js';
import { SharedWindowCounter } from '../../common/redis/redis-window-counter.js';
import { ServiceAccountDirectory } from '../ports/service-account-directory.port.js';
import { BoundedMemo } from '../../common/cache/bounded-memo.js';
import { TtlCache } from '../../common/cache/ttl-cache.js';
import { dropOldestWhenFull } from '../../common/cache/drop-oldest.js';
import { accountSnapshotOf, type AccountSnapshot } from './account-snapshot.js';
import type { AccountRef, KeyRecord } from './key-index.js';
import { KeyLookup, type Lookup } from './key-lookup.service.js';

export interface VerifyOptions extends ApiKeyCheckOptions {
  requestId?: string | null;
  /**
   * Forward-auth only: count bad credentials against `clientAddress`, and answer further bad ones
   * RATE_LIMITED once the address is over its budget. A valid key always passes; callers of
   * Keysmith's own API never set this, so that limiter never refuses them.
   */
  limitFailuresByAddress?: boolean;
}

/** Failures that say the credential itself is bad; on forward-auth these count against a client address. */
const CREDENTIAL_FAILURES = new Set<ApiKeyFailureCode>(['MALFORMED', 'NOT_FOUND', 'EXPIRED', 'REVOKED', 'CLIENT_DISABLED']);
const AUDIT_PER_SOURCE_PER_MINUTE = 5;
const AUDIT_TOTAL_PER_MINUTE = 60;
/** Identities kept for the keys verified lately (about 0.7 KB each with what is made from them). */
export const GRANTS = 10_000;

/**
 * A key's identity as built for one snapshot of its account (see `identityOf`), with the issued
 * scopes that account no longer has. A kept identity is frozen: every verification of the key shares it.
 */
interface Grant {
  account: AccountSnapshot | null;
  identity: ApiKeyIdentity;
  excess: readonly string[];
}

/**
 * Verifies API keys: prefix and length first, then the key's record from memory (KeyLookup: the
 * in-memory index of live keys, a query beyond it; characters and checksum are checked before
 * the query or a NOT_FOUND, so a malformed key never reaches the database) and its account's snapshot
 * (cached for KEYSMITH_API_KEY_CACHE_TTL_MS, at most 5 s). Expiry and revocation are judged by
 * time and state at each check, so they apply before any job runs. Revocation and rotation drop
 * the key at once on this instance and reach the others within KEYSMITH_KEY_INDEX_POLL_MS (1 s);
 * account changes drop its snapshot at once here and reach the others within the cache TTL.
 */
@Injectable()
export class ApiKeyVerificationService extends ApiKeyVerifier {
  private readonly logger = new Logger(ApiKeyVerificationService.name);
  private readonly accounts: TtlCache<string, AccountSnapshot | null>;
  /** The `accounts` key of each account reference met (see `account`). */
  private readonly accountKeys = new WeakMap<AccountRef, string>();
  private readonly keyLimiter: SharedLimiter;
  private readonly addressFailures: SharedLimiter;
  private readonly auditLimiter: FixedWindowLimiter;
  private suppressedAudits = 0;
  private readonly verifications: Tally<'result' | 'cache'>;
  /** The two counts every valid key adds to, kept (see Tally.cell). */
  private readonly validCounts: Record<'hit' | 'miss', TallyCell<'result' | 'cache'>>;
  /**
   * The identity last built per key record (a record is replaced, never changed, when its key
   * changes), reused while the key's account snapshot is the same object: a snapshot lives at most
   * the cache TTL, and a change to the account drops it at once. Bounded (GRANTS): the keys
   * verified lately, not every key the index holds (see BYTES_PER_KEY).
   */
  private readonly grants = new Map<KeyRecord, Grant>();
  /**
   * The records verified once lately and not yet in `grants`. A Map of records the index already
   * holds: an entry allocates nothing the garbage collector must later trace or move.
   */
  private readonly seenOnce = new Map<KeyRecord, true>();
  private readonly excessUses: Counter<'mode'>;
  private readonly excessLogLimiter: FixedWindowLimiter;
  /** The ISO form of expiry times, for the keys verified often (a Date and its ISO string cost about 1 µs). */
  private readonly isoTimes = new BoundedMemo<number, string>(10_000, (ms) => new Date(ms).toISOString());

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly lookups: KeyLookup,
    private readonly generation: ApiKeyGenerationStrategy,
    private readonly hashing: ApiKeyHashingStrategy,
    private readonly directory: ServiceAccountDirectory,
    private readonly usage: ApiKeyUsageService,
    private readonly audit: AuditService,
    metrics: MetricsRegistry,
    shared: SharedWindowCounter,
  ) {
    super();
    const now = () => this.clock.nowMs();
    const { cacheSize, cacheTtlMs } = config.apiKeys;
    this.accounts = new TtlCache(Math.min(cacheSize, 50_000), cacheTtlMs, now);
    const fallbacks = metrics.counter('keysmith_limit_fallbacks_total', 'Limit checks made without the shared counter (Redis unreachable), by limit', ['limit']);
    const { keyLimitFallback, failureLimitFallback } = config.scaleOut;
    this.keyLimiter = new SharedLimiter('key', new FixedWindowLimiter(now), shared, keyLimitFallback, () => fallbacks.inc({ limit: 'key' }));
    this.addressFailures = new SharedLimiter('address', new FixedWindowLimiter(now), shared, failureLimitFallback, () => fallbacks.inc({ limit: 'address' }));
    this.auditLimiter = new FixedWindowLimiter(now, 10_000);
    this.excessLogLimiter = new FixedWindowLimiter(now, 10_000);
    this.excessUses = metrics.counter(
      'keysmith_api_key_scope_excess_verifications_total',
      'Verifications of keys holding scopes their account no longer has, by enforcement mode (enforce: cut; report: kept)',
      ['mode'],
    );
    this.verifications = metrics.tally('keysmith_api_key_verifications_total', 'API key verifications by result and cache use', ['result', 'cache']);
    this.validCounts = {
      hit: this.verifications.cell({ result: 'valid', cache: 'hit' }),
      miss: this.verifications.cell({ result: 'valid', cache: 'miss' }),
    };
  }

  /** A caller's key, presented to Keysmith's own API (the guard calls this; see HashLane). */
  check(key: string, options: VerifyOptions = {}): Promise<ApiKeyCheck> {
    return this.verify(key, options, 'caller');
  }

  /**
   * Every key is judged in full before any per-address failure budget, so a valid key passes even
   * from an address that is over it; only a bad one is then answered RATE_LIMITED (see refuse).
   */
  async verify(key: string, options: VerifyOptions = {}, lane: HashLane = 'verified'): Promise<ApiKeyCheck> {
    if (!this.generation.hasShape(key)) return this.refuse('MALFORMED', { options });
    // Answers held in memory come back as values, not promises: the common case awaits nothing.
    const held = this.heldLookup(key, lane);
    let found: Lookup;
    if (held?.record) found = held;
    else {
      // Characters and checksum (about 2 µs) only for a key memory does not hold: one it holds was
      // issued here, by the same format (see hasShape).
      if (!this.generation.parse(key)) return this.refuse('MALFORMED', { options });
      found = held ?? (await this.lookupInDatabase(key, lane));
    }
    const { record, cached } = found;
    if (!record) return this.refuse('NOT_FOUND', { options, cached });
    const snapshot = this.account(record.account);
    const account = snapshot instanceof Promise ? await snapshot : snapshot;
    const now = this.clock.nowMs();
    const identity = this.identityOf(record, account);
    // An account that is gone had its keys revoked; if that has not landed yet, say so anyway.
    if (!account || record.revokedAt !== null) return this.refuse('REVOKED', { identity, options, cached });
    if (record.expiresAt <= now) return this.refuse('EXPIRED', { identity, options, cached });
    if (!account.enabled) return this.refuse('CLIENT_DISABLED', { identity, options, cached });
    if (account.rateLimit) {
      const decision = await this.keyLimiter.hit(record.id, account.rateLimit.requests, account.rateLimit.perSeconds);
      if (!decision.allowed) return this.refuse('RATE_LIMITED', { identity, options, cached, retryAfterSeconds: decision.retryAfterSeconds });
    }
    const required = options.requiredScopes ?? [];
    if (required.some((scope) => !identity.scopes.includes(scope))) return this.refuse('INSUFFICIENT_SCOPE', { identity, options, cached });

    this.usage.record(record, now);
    (cached ? this.validCounts.hit : this.validCounts.miss).inc();
    return { valid: true, identity };
  }

  /**
   * Who the key is and what it grants now. A key grants only those of its issued scopes that its
   * account still has (within the cache TTL of an account change); in report mode it keeps them
   * all. Built once per record and account snapshot (see `grants`); an excess is counted and
   * logged (at most once a minute per key) at every verification all the same.
   */
  private identityOf(record: KeyRecord, account: AccountSnapshot | null): ApiKeyIdentity {
    let grant = this.grants.get(record);
    if (grant === undefined || grant.account !== account) {
      const held = grant !== undefined;
      // Kept (and frozen, to be shared) from a key's second verification on: a key seen once, as
      // most are when a gateway cycles many keys, gets an identity of its own that dies young.
      const keep = held || this.seenOnce.delete(record);
      const mode = this.config.apiKeys.scopeEnforcement;
      const excess = account ? scopeExcess(record.scopes, account.scopes) : [];
      const identity: ApiKeyIdentity = {
        keyId: record.id,
        realm: record.account.realm,
        clientId: record.account.clientId,
        owner: account?.owner ?? '',
        scopes: scopesGranted(record, account, excess, mode),
        expiresAt: this.isoTimes.get(record.expiresAt),
      };
      grant = { account, identity: keep ? Object.freeze(identity) : identity, excess };
      if (!keep) {
        dropOldestWhenFull(this.seenOnce, GRANTS);
        this.seenOnce.set(record, true);
      } else {
        // A record's new grant goes last (newest); a new record may first need room.
        if (held) this.grants.delete(record);
        else dropOldestWhenFull(this.grants, GRANTS);
        this.grants.set(record, grant);
      }
    }
    if (grant.excess.length > 0) this.noteExcess(record, grant.excess);
    return grant.identity;
  }

  private noteExcess(record: KeyRecord, excess: readonly string[]): void {
    const mode = this.config.apiKeys.scopeEnforcement;
    this.excessUses.inc({ mode });
    if (mode === 'report' && this.excessLogLimiter.hit(record.id, 1, 60).allowed) {
      this.logger.warn(`API key ${record.id} of ${record.account.realm}/${record.account.clientId} used scopes its account no longer has: ${excess.join(', ')} (KEYSMITH_KEY_SCOPE_ENFORCEMENT=report keeps them)`);
    }
  }

  /** Starts loading every live key into memory, and reading the keys changed since (the HTTP set-up calls it). */
  startIndex(): void {
    this.lookups.start();
  }

  /** Drops what is held about one key (after revocation or rotation); a change feed calls it too. */
  forgetKeyHash(keyHash: string): void {
    this.lookups.forgetKeyHash(keyHash);
  }

  /** Reads one key again now: a change feed calls it when another instance changed the key. */
  refreshKey(keyHash: string): Promise<void> {
    return this.lookups.refreshKey(keyHash);
  }

  /**
   * Drops the cached account snapshots (the change feed could not be followed for a long time);
   * the key index keeps following its own read of changed keys.
   */
  forgetAll(): void {
    this.accounts.clear();
  }

  /** Drops everything cached about an account and its keys, so a change to it applies at once. */
  forgetAccount(realm: string, clientId: string): void {
    this.accounts.delete(accountKey(realm, clientId));
    this.lookups.forgetAccount(realm, clientId);
  }

  /** The key's record as memory holds it, every pepper version answered there; undefined when the database must answer. */
  private heldLookup(key: string, lane: HashLane): Lookup | undefined {
    for (const version of this.hashing.versions) {
      const held = this.lookups.peek(this.hashing.hash(key, version, lane));
      if (held === undefined) return undefined;
      if (held.record) return held;
    }
    return { record: null, cached: true };
  }

  private async lookupInDatabase(key: string, lane: HashLane): Promise<Lookup> {
    let cached = true;
    for (const version of this.hashing.versions) {
      const found = await this.lookups.find(this.hashing.hash(key, version, lane));
      cached &&= found.cached;
      if (found.record) return { record: found.record, cached };
    }
    return { record: null, cached };
  }

  /**
   * The account's snapshot: held in memory, as a value; else read (once for all who ask meanwhile,
   * and held), as a promise. The cache key is made once per account reference (the index shares
   * one per account), not joined anew, with a loader, on every verification.
   */
  private account(ref: AccountRef): AccountSnapshot | null | Promise<AccountSnapshot | null> {
    let key = this.accountKeys.get(ref);
    if (key === undefined) {
      key = accountKey(ref.realm, ref.clientId);
      this.accountKeys.set(ref, key);
    }
    const held = this.accounts.get(key);
    if (held !== undefined) return held;
    const { realm, clientId } = ref;
    return this.accounts.getOrLoad(key, () => this.directory.findLive(realm, clientId).then((view) => (view ? accountSnapshotOf(view) : null)));
  }

  private async refuse(
    code: ApiKeyFailureCode,
    details: { options: VerifyOptions; identity?: ApiKeyIdentity; retryAfterSeconds?: number; cached?: boolean },
  ): Promise<ApiKeyCheck> {
    const { options, identity, retryAfterSeconds } = details;
    this.verifications.inc({ result: code, cache: details.cached ? 'hit' : 'miss' });
    const overBudget = await this.countFailure(code, options);
    await this.auditFailure(code, identity, options);
    // Past the address's budget a bad credential learns only when to try again, not why it failed.
    if (overBudget) return { valid: false, code: 'RATE_LIMITED', retryAfterSeconds: overBudget.retryAfterSeconds };
    return {
      valid: false,
      code,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      ...(identity ? { identity } : {}),
    };
  }

  /** Counts a bad credential against its client address (forward-auth); says when the address is over budget. */
  private async countFailure(code: ApiKeyFailureCode, options: VerifyOptions): Promise<LimitDecision | null> {
    if (!options.limitFailuresByAddress || !options.clientAddress || !CREDENTIAL_FAILURES.has(code)) return null;
    const { authCheckMaxFailures, authCheckFailureWindowSeconds } = this.config.apiKeys;
    const decision = await this.addressFailures.hit(options.clientAddress, authCheckMaxFailures, authCheckFailureWindowSeconds);
    return decision.allowed ? null : decision;
  }

  /**
   * One `api_key.verified_failed` event per code and source (key or address) and minute, at most
   * 60 a minute in all; the number of events left out is carried by the next one recorded.
   */
  private async auditFailure(code: ApiKeyFailureCode, identity: ApiKeyIdentity | undefined, options: VerifyOptions): Promise<void> {
    const source = identity?.keyId ?? options.clientAddress ?? 'unknown';
    const perSource = this.auditLimiter.hit(`${code}|${source}`, AUDIT_PER_SOURCE_PER_MINUTE, 60);
    const total = perSource.allowed ? this.auditLimiter.hit('*', AUDIT_TOTAL_PER_MINUTE, 60) : perSource;
    if (!total.allowed) {
      this.suppressedAudits += 1;
      return;
    }
    const suppressed = this.suppressedAudits;
    this.suppressedAudits = 0;
    try {
      await this.audit.record(
        { actor: { type: 'api-key', id: identity?.keyId ?? null }, requestId: options.requestId ?? null, owner: null, source: null, callerScopes: null },
        {
          action: 'api_key.verified_failed',
          outcome: 'failure',
          realm: identity?.realm ?? null,
          clientId: identity?.clientId ?? null,
          target: identity?.keyId ?? null,
          ...(identity ? { owner: identity.owner || null } : {}),
          detail: { code, ...(options.clientAddress ? { clientAddress: options.clientAddress } : {}), ...(suppressed ? { suppressedBefore: suppressed } : {}) },
        },
      );
    } catch (error) {
      this.logger.error({ err: error }, 'could not record a failed API key verification');
    }
  }
}

/** What the key grants now (see identityOf), frozen: the index's own frozen list when nothing is cut. */
function scopesGranted(record: KeyRecord, account: AccountSnapshot | null, excess: readonly string[], mode: ScopeEnforcement): string[] {
  if (!account) return Object.freeze([] as string[]) as string[];
  if (excess.length > 0) return Object.freeze(scopesNow(record.scopes, account.scopes, mode)) as string[];
  return (Object.isFrozen(record.scopes) ? record.scopes : Object.freeze([...record.scopes])) as string[];
}

function accountKey(realm: string, clientId: string): string {
  return `${realm}\u0000${clientId}`;
}
