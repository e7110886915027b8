import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, Repository, type EntityManager } from 'typeorm';
import { AuditService } from '../../audit/index.js';
import { ChangeFeed, keyChange } from '../../common/changes/index.js';
import type { OperationContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { keysmithScopesBeyondCaller } from '../../common/auth/caller-authority.js';
import { decodeCursor, toPage, type Page } from '../../common/http/pagination.js';
import { sortableId } from '../../common/ids/ids.js';
import { Clock } from '../../common/time/clock.js';
import { AppConfig } from '../../config/app-config.js';
import type { ServiceAccountView } from '../../service-accounts/index.js';
import { scopesNow, toApiKeyView, type ApiKeyView } from '../api-key.view.js';
import type { IssueApiKeyInput, ListApiKeysQuery } from '../dto/api-key.schemas.js';
import { ApiKeyEntity } from '../entities/api-key.entity.js';
import { changeStamp } from './key-rows.js';
import { ApiKeyGenerationStrategy } from '../strategies/api-key-generation.strategy.js';
import { ApiKeyHashingStrategy } from '../strategies/api-key-hashing.strategy.js';
import type { KeyEnvironment } from '../strategies/api-key-format.js';
import { ServiceAccountDirectory } from '../ports/service-account-directory.port.js';
import { accountSnapshotOf } from './account-snapshot.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/** A newly made key: the representation plus the key itself, shown this once. */
export type IssuedApiKey = ApiKeyView & { key: string };

/** Issues, lists, rotates and revokes API keys of service accounts. */
@Injectable()
export class ApiKeysService {
  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly generation: ApiKeyGenerationStrategy,
    private readonly hashing: ApiKeyHashingStrategy,
    private readonly directory: ServiceAccountDirectory,
    private readonly audit: AuditService,
    private readonly changes: ChangeFeed,
  ) {}

  /**
   * Issues a key under the account's lease: a deletion of the account (which revokes every key of
   * it) cannot run between the account's read and the key's insert, which left a live key behind
   * that a later account of the same clientId, of any owner, would have brought back.
   */
  async issue(context: OperationContext, realm: string, clientId: string, input: IssueApiKeyInput): Promise<IssuedApiKey> {
    this.checkRealm(realm);
    const { row, key } = await this.directory.whileHeld(realm, clientId, async () => {
      const account = this.activeAccount(await this.account(context, realm, clientId));
      this.checkScopes(account, input.scopes);
      await this.checkWithinCaller(context, input.scopes, { action: 'api_key.issued', realm, clientId, target: null, owner: account.owner });
      const ttlDays = input.ttlDays ?? account.apiKeyPolicy.defaultTtlDays;
      this.checkTtl(account, ttlDays);
      const issued = this.newKey(account, { name: input.name, scopes: input.scopes, environment: input.environment, ttlDays });
      // A new key is a change too: an instance that cached its hash as unknown learns it exists.
      await this.changes.transaction(async (manager, changed) => {
        await manager.insert(ApiKeyEntity, { ...issued.row, changedAt: changeStamp(manager.connection) });
        changed(keyChange(issued.row));
      });
      return issued;
    });
    await this.audit.record(context, {
      action: 'api_key.issued',
      realm,
      clientId,
      target: row.id,
      detail: { name: row.name, hint: row.hint, scopes: row.scopes, environment: row.environment, expiresAt: row.expiresAt.toISOString() },
    });
    return { ...toApiKeyView(row, this.clock.now()), key };
  }

  /** The representation with the scopes the key grants now, judged against its account as verification judges it. */
  private view(row: ApiKeyEntity, account: ServiceAccountView | null, now = this.clock.now()): ApiKeyView {
    const accountScopes = account ? accountSnapshotOf(account).scopes : null;
    return toApiKeyView(row, now, scopesNow(row.scopes, accountScopes, this.config.apiKeys.scopeEnforcement));
  }

  async list(context: OperationContext, realm: string, clientId: string, query: ListApiKeysQuery): Promise<Page<ApiKeyView>> {
    const account = await this.account(context, realm, clientId);
    const now = this.clock.now();
    const builder = this.keys
      .createQueryBuilder('k')
      .where('k.realm = :realm AND k.clientId = :clientId', { realm, clientId })
      .orderBy('k.id', 'ASC')
      .take(query.limit + 1);
    const after = decodeCursor(query.cursor);
    if (after) builder.andWhere('k.id > :after', { after });
    switch (query.status) {
      case 'revoked':
        builder.andWhere('k.revokedAt IS NOT NULL');
        break;
      case 'expired':
        builder.andWhere('k.revokedAt IS NULL AND k.expiresAt <= :now', { now });
        break;
      case 'expiring':
        builder.andWhere('k.revokedAt IS NULL AND k.expiresAt > :now AND k.rotatedToId IS NOT NULL', { now });
        break;
      case 'active':
        builder.andWhere(new Brackets((q) => q.where('k.revokedAt IS NULL AND k.expiresAt > :now AND k.rotatedToId IS NULL', { now })));
        break;
    }
    const rows = await builder.getMany();
    return toPage(rows, query.limit, (row) => row.id, (row) => this.view(row, account, now));
  }

  async get(context: OperationContext, id: string): Promise<ApiKeyView> {
    const row = await this.visibleKey(context, id);
    return this.view(row, await this.directory.findLive(row.realm, row.clientId));
  }

  /**
   * Issues a successor with the same name, scopes, environment and lifetime, and lets the old key
   * run out after `graceHours` (0 ends it now). Concurrent rotations of one key: one wins, the
   * others get API_KEY_NOT_ACTIVE (see claimRotation).
   */
  async rotate(context: OperationContext, id: string, graceHours: number): Promise<IssuedApiKey> {
    const found = await this.visibleKey(context, id);
    // Under the account's lease, as issue: no deletion of the account runs between the checks and the successor's insert.
    const { old, row, key, graceEnd, now } = await this.directory.whileHeld(found.realm, found.clientId, async () => {
      const old = await this.visibleKey(context, id);
      const now = this.clock.now();
      if (old.revokedAt || old.expiresAt <= now || old.rotatedToId) {
        throw new DomainError(ErrorCode.ApiKeyNotActive, `API key ${id} is ${toApiKeyView(old, now).status}; only an active key can be rotated.`);
      }
      const account = await this.directory.findLive(old.realm, old.clientId);
      if (!account || account.state === 'deleting') throw new DomainError(ErrorCode.ApiKeyNotActive, `The service account of API key ${id} no longer exists.`);
      this.checkScopes(account, old.scopes);
      await this.checkWithinCaller(context, old.scopes, { action: 'api_key.rotated', realm: old.realm, clientId: old.clientId, target: old.id, owner: account.owner });
      const ttlDays = Math.min(old.ttlDays, account.apiKeyPolicy.maxTtlDays);
      const successor = this.newKey(account, { name: old.name, scopes: old.scopes, environment: old.environment, ttlDays }, old.id);
      const graceEnd = new Date(Math.min(old.expiresAt.getTime(), now.getTime() + graceHours * HOUR_MS));
      await this.changes.transaction(async (manager, changed) => {
        await manager.insert(ApiKeyEntity, { ...successor.row, changedAt: changeStamp(manager.connection) });
        await this.claimRotation(manager, old.id, successor.row.id, graceEnd);
        changed(keyChange(old), keyChange(successor.row));
      });
      return { old, ...successor, graceEnd, now };
    });
    await this.audit.record(context, {
      action: 'api_key.rotated',
      realm: old.realm,
      clientId: old.clientId,
      target: old.id,
      detail: { successorId: row.id, hint: row.hint, graceHours, previousExpiresAt: graceEnd.toISOString(), expiresAt: row.expiresAt.toISOString() },
    });
    return { ...toApiKeyView(row, now), key };
  }

  /**
   * Marks `oldId` as rotated to `successorId`, only while it is still active and not rotated: one
   * conditional UPDATE, so two instances rotating the same key cannot both win. The loser's
   * successor is deleted. No transaction: on SQLite every caller shares one connection, so a
   * transaction would take in (and a rollback undo) other callers' writes. A process that dies
   * between the insert and this claim leaves the old key untouched and a successor whose key was
   * never shown to anyone, so it cannot be used.
   */
  private async claimRotation(manager: EntityManager, oldId: string, successorId: string, graceEnd: Date): Promise<void> {
    const claimed = await manager
      .createQueryBuilder()
      .update(ApiKeyEntity)
      .set({ rotatedToId: successorId, expiresAt: graceEnd, changedAt: changeStamp(manager.connection) })
      .where('id = :oldId AND rotated_to_id IS NULL AND revoked_at IS NULL', { oldId })
      .execute();
    if (claimed.affected === 1) return;
    await manager.delete(ApiKeyEntity, { id: successorId });
    throw new DomainError(ErrorCode.ApiKeyNotActive, `API key ${oldId} was rotated or revoked meanwhile; only an active key can be rotated.`);
  }

  /** Revokes a key now; revoking a revoked key again changes nothing. */
  async revoke(context: OperationContext, id: string): Promise<void> {
    const row = await this.visibleKey(context, id);
    if (row.revokedAt) return;
    const now = this.clock.now();
    await this.changes.transaction(async (manager, changed) => {
      await manager.update(ApiKeyEntity, { id }, { revokedAt: now, changedAt: changeStamp(manager.connection) });
      changed(keyChange(row));
    });
    await this.audit.record(context, {
      action: 'api_key.revoked',
      realm: row.realm,
      clientId: row.clientId,
      target: row.id,
      detail: { name: row.name, hint: row.hint },
    });
  }

  private newKey(
    account: ServiceAccountView,
    spec: { name: string; scopes: string[]; environment: KeyEnvironment; ttlDays: number },
    rotatedFromId: string | null = null,
  ): { row: ApiKeyEntity; key: string } {
    const now = this.clock.now();
    const { key, hint } = this.generation.generate(spec.environment);
    const version = this.hashing.currentVersion;
    const row = this.keys.create({
      id: sortableId('key', now),
      realm: account.realm,
      clientId: account.clientId,
      name: spec.name,
      environment: spec.environment,
      hint,
      keyHash: this.hashing.hash(key, version),
      pepperVersion: version,
      scopes: [...spec.scopes].sort(),
      ttlDays: spec.ttlDays,
      createdAt: now,
      expiresAt: new Date(now.getTime() + spec.ttlDays * DAY_MS),
      lastUsedAt: null,
      useCount: 0,
      revokedAt: null,
      rotatedFromId,
      rotatedToId: null,
      changedAt: null, // stamped by the insert, on the database's clock
    });
    return { row, key };
  }

  /** The account, if keys may be issued for it: not while it is being deleted (404, as once it is gone). */
  private activeAccount(account: ServiceAccountView): ServiceAccountView {
    if (account.state === 'deleting') {
      throw new DomainError(ErrorCode.ServiceAccountNotFound, `Service account ${account.clientId} in realm ${account.realm} is ${account.state}; no key can be issued for it.`, { clientId: account.clientId });
    }
    return account;
  }

  private async account(context: OperationContext, realm: string, clientId: string): Promise<ServiceAccountView> {
    this.checkRealm(realm);
    return this.directory.get(context, realm, clientId);
  }

  /** A key the caller may see: another owner's key answers 404 as if it did not exist. */
  private async visibleKey(context: OperationContext, id: string): Promise<ApiKeyEntity> {
    const row = await this.keys.findOneBy({ id });
    const notFound = new DomainError(ErrorCode.ApiKeyNotFound, `No API key ${id}.`);
    if (!row) throw notFound;
    if (context.owner !== null) {
      const account = await this.directory.findLive(row.realm, row.clientId);
      if (!account || account.owner !== context.owner) throw notFound;
    }
    return row;
  }

  private checkRealm(realm: string): void {
    if (!this.config.isManagedRealm(realm)) {
      throw new DomainError(ErrorCode.RealmNotManaged, `Keysmith does not manage the realm "${realm}".`, { realm });
    }
  }

  /**
   * A key may hold only the account's effective scopes: its default and optional scopes, less any
   * removed from its client in Keycloak (verification would drop those anyway, so issuing one would
   * mint a key that never works as asked). Such a scope is named as removed in Keycloak.
   */
  private checkScopes(account: ServiceAccountView, scopes: string[]): void {
    const allowed = new Set(account.effective.scopes);
    const removed = new Set(account.keycloak.missingScopes);
    const extra = scopes.filter((scope) => !allowed.has(scope));
    if (extra.length === 0) return;
    const gone = extra.filter((scope) => removed.has(scope));
    const notGranted = extra.filter((scope) => !removed.has(scope));
    const reasons = [
      ...(notGranted.length ? [`Scopes not granted to ${account.clientId}: ${notGranted.join(', ')}.`] : []),
      ...(gone.length ? [`Scopes removed from the client ${account.clientId} in Keycloak: ${gone.join(', ')}.`] : []),
    ];
    throw new DomainError(ErrorCode.ScopeNotAllowed, `${reasons.join(' ')} A key may hold only the account's default and optional scopes that its client still has in Keycloak.`, {
      scopes: extra,
      allowed: [...allowed].sort(),
      ...(gone.length ? { removedInKeycloak: gone } : {}),
    });
  }

  /**
   * Authority never grows through a key: a Keysmith scope goes on a key only when the caller holds
   * it (`keysmith:admin` only for its holders), and a key issuing a key hands on none of the realm
   * scopes it lacks either. Operator paths (CLI, jobs) are unbounded. A refusal is audited.
   */
  private async checkWithinCaller(
    context: OperationContext,
    scopes: string[],
    event: { action: string; realm: string; clientId: string; target: string | null; owner: string },
  ): Promise<void> {
    const beyond = new Set(keysmithScopesBeyondCaller(context, scopes, this.config.auth.adminScope));
    if (context.actor.type === 'api-key' && context.callerScopes) {
      for (const scope of scopes) if (!context.callerScopes.includes(scope)) beyond.add(scope);
    }
    if (beyond.size === 0) return;
    const names = [...beyond].sort();
    await this.audit.record(context, { ...event, outcome: 'failure', detail: { code: ErrorCode.ScopeEscalation, scopes: names } });
    const bound = context.actor.type === 'api-key' ? 'the issuing key holds' : 'you hold';
    throw new DomainError(ErrorCode.ScopeEscalation, `A key may carry only scopes ${bound}; not held: ${names.join(', ')}.`, { scopes: names });
  }

  private checkTtl(account: ServiceAccountView, ttlDays: number): void {
    const max = account.apiKeyPolicy.maxTtlDays;
    if (ttlDays > max) {
      throw new DomainError(ErrorCode.TtlTooLong, `ttlDays ${ttlDays} exceeds the account's maxTtlDays of ${max}.`, { ttlDays, maxTtlDays: max });
    }
  }
}
