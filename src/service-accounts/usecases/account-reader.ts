import { Injectable } from '@nestjs/common';
import { IsNull, Like, MoreThan, Not, type FindOptionsWhere } from 'typeorm';
import { AuditService } from '../../audit/index.js';
import type { OperationContext } from '../../common/context/operation-context.js';
import { decodeCursor, toPage, type Page } from '../../common/http/pagination.js';
import { KeycloakClientsGateway } from '../../keycloak/index.js';
import { SecretVault } from '../../secrets/index.js';
import { etagOf } from '../account-spec.js';
import type { ServiceAccountEntity } from '../entities/service-account.entity.js';
import { toServiceAccountView, type ServiceAccountView } from '../service-account.view.js';
import { AccountRows, reason } from '../services/account-rows.js';
import { SpecChecker } from '../services/spec-checker.js';

export interface ListFilter {
  owner?: string;
  clientIdPrefix?: string;
}

/** Reads accounts: one (with its entity tag), pages, every live one, and the stored secret. */
@Injectable()
export class AccountReader {
  constructor(
    private readonly rows: AccountRows,
    private readonly checker: SpecChecker,
    private readonly keycloak: KeycloakClientsGateway,
    private readonly vault: SecretVault,
    private readonly audit: AuditService,
  ) {}

  async get(context: OperationContext, realm: string, clientId: string): Promise<ServiceAccountView & { etag: string }> {
    this.checker.assertRealm(realm);
    const row = await this.rows.get(context, realm, clientId);
    return Object.defineProperty(toServiceAccountView(row), 'etag', { value: etagOf(row), enumerable: false }) as ServiceAccountView & { etag: string };
  }

  /** A live (not deleted, fully provisioned) account, with no owner check: for other features. */
  async findLive(realm: string, clientId: string): Promise<ServiceAccountView | null> {
    const row = await this.rows.repository.findOne({ where: { realm, clientId, deletedAt: IsNull(), state: Not('provisioning') } });
    return row ? toServiceAccountView(row) : null;
  }

  async list(context: OperationContext, realm: string, filter: ListFilter, limit: number, cursor?: string): Promise<Page<ServiceAccountView>> {
    this.checker.assertRealm(realm);
    const after = decodeCursor(cursor);
    const where: FindOptionsWhere<ServiceAccountEntity> = { realm, deletedAt: IsNull(), state: Not('provisioning') };
    if (context.owner) where.owner = context.owner;
    if (filter.owner) {
      if (context.owner && filter.owner !== context.owner) return { items: [], nextCursor: null };
      where.owner = filter.owner;
    }
    if (filter.clientIdPrefix) where.clientId = Like(`${filter.clientIdPrefix.replace(/[%_\\]/g, '\\$&')}%`);
    if (after) where.id = MoreThan(after);
    const rows = await this.rows.repository.find({ where, order: { id: 'ASC' }, take: limit + 1 });
    return toPage(rows, limit, (row) => row.id, toServiceAccountView);
  }

  /** Every live account of a realm (GitOps export, plan with prune, drift). */
  async listAll(realm: string): Promise<ServiceAccountView[]> {
    const rows = await this.rows.repository.find({ where: { realm, deletedAt: IsNull(), state: Not('provisioning') }, order: { clientId: 'ASC' } });
    return rows.map(toServiceAccountView);
  }

  /** The current client secret, from Keysmith's encrypted store (Keycloak when none is stored). Audited, refusals too. */
  async readSecret(context: OperationContext, realm: string, clientId: string): Promise<{ clientSecret: string; rotatedAt: string | null }> {
    this.checker.assertRealm(realm);
    let row: ServiceAccountEntity;
    try {
      row = await this.rows.get(context, realm, clientId);
      this.checker.assertSecretWithinCaller(context, row);
    } catch (error) {
      await this.audit.record(context, { action: 'client_secret.read', outcome: 'failure', realm, clientId, detail: { code: reason(error) } });
      throw error;
    }
    const clientSecret = row.secretCiphertext ? this.vault.decrypt(row.secretCiphertext, row.id) : await this.keycloak.clientSecret(realm, clientId);
    await this.audit.record(context, { action: 'client_secret.read', realm, clientId });
    return { clientSecret, rotatedAt: row.lastRotatedAt?.toISOString() ?? null };
  }
}
