import { Injectable, Logger } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AuditService } from '../../audit/index.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { faultPoint } from '../../common/faults/fault-points.js';
import { sortableId } from '../../common/ids/ids.js';
import { LeaseLostError, type Fence } from '../../common/leases/leases.js';
import { Random } from '../../common/random/random.js';
import { Clock } from '../../common/time/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { KeycloakClientsGateway } from '../../keycloak/index.js';
import { SecretVault } from '../../secrets/index.js';
import { clientSpecOf, columnsOf, DAY_MS, grantsOf, specHash } from '../account-spec.js';
import type { ServiceAccountSpec } from '../dto/service-account.schemas.js';
import type { ServiceAccountEntity } from '../entities/service-account.entity.js';
import { ServiceAccountEvents } from '../service-account.events.js';
import { toServiceAccountView } from '../service-account.view.js';
import { AccountRows, reason } from '../services/account-rows.js';
import type { ProvisionAccountCommand, UpsertResult } from './commands.js';

/** The insert of a create met a live row of the same name (the unique index): 409 CLIENT_EXISTS unless the caller settles that row first. */
export class AccountRowExists extends DomainError {
  constructor(realm: string, clientId: string) {
    super(ErrorCode.ClientExists, `Service account ${clientId} already exists in realm ${realm}.`, { clientId });
    this.name = 'AccountRowExists';
  }
}

/**
 * The insert met the live row of the same realm and clientId: the partial unique index
 * UQ_service_accounts_live, which PostgreSQL names (23505) and SQLite names by its columns. Any
 * other constraint (the primary key, a NOT NULL) is an error of its own, not a taken name.
 */
function isLiveNameTaken(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driver = error.driverError as { code?: string; constraint?: string } | undefined;
  if (driver?.code === '23505') return driver.constraint === 'UQ_service_accounts_live';
  return error.message.includes('UNIQUE constraint failed: service_accounts.realm, service_accounts.client_id');
}

function clientExists(realm: string, clientId: string, managed: boolean): DomainError {
  return new DomainError(
    ErrorCode.ClientExists,
    managed
      ? `A client ${clientId} made by Keysmith already exists in realm ${realm} without a matching record.`
      : `A client ${clientId} exists in realm ${realm} but Keysmith did not make it; it is never adopted or overwritten.`,
    { clientId },
  );
}

/**
 * Creates an account: the row first (`provisioning`), then the Keycloak client, its grants, and
 * the encrypted secret with the row `ready`. A failure removes the half-made client again; when
 * that fails too (Keycloak gone, lease lost) the row stays `provisioning` for recovery, which
 * finds the client by the account id stamped on it.
 */
@Injectable()
export class ProvisionAccountUseCase {
  private readonly logger = new Logger(ProvisionAccountUseCase.name);

  constructor(
    private readonly rows: AccountRows,
    private readonly keycloak: KeycloakClientsGateway,
    private readonly audit: AuditService,
    private readonly events: ServiceAccountEvents,
    private readonly vault: SecretVault,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly random: Random,
  ) {}

  async execute(command: ProvisionAccountCommand): Promise<UpsertResult> {
    const { context, realm, clientId, spec, fence } = command;
    const row = await this.insertRowIfNameFree(command);
    const clientSecret = this.random.bytes(32).toString('base64url');
    try {
      await this.makeClient(command, row, clientSecret);
    } catch (error) {
      await this.undo(row, fence, error);
      await this.audit.record(context, { action: 'service_account.created', outcome: 'failure', realm, clientId, detail: { reason: reason(error) } });
      throw error;
    }
    const account = toServiceAccountView(row);
    // What is left needs no lock, and the writes are independent: the lease's release, the audit
    // event and the change every instance follows are made together.
    await Promise.all([
      fence.release(),
      this.audit.record(context, {
        action: 'service_account.created',
        realm,
        clientId,
        target: row.keycloakId,
        // The account's owner is known here: the audit need not look it up.
        owner: spec.owner,
        detail: { owner: spec.owner, realmRoles: spec.realmRoles, clientRoles: spec.clientRoles, defaultScopes: spec.defaultScopes, optionalScopes: spec.optionalScopes },
      }),
      this.events.publish({ type: 'created', account, context }),
    ]);
    return { created: true, account, changes: [{ field: 'clientId', action: 'set', from: null, to: clientId }], clientSecret };
  }

  /**
   * The row, inserted `provisioning` while Keycloak is asked whether the name is free (a read and
   * an insert that do not depend on each other, made at once). A name that is taken, or a look-up
   * that fails, removes the row again; a row that cannot be removed then is left to recovery, which
   * finds no client carrying its id and removes it. A look-up made before the lease
   * (`command.found`) that saw a client is made again: the client may have been deleted since.
   */
  private async insertRowIfNameFree(command: ProvisionAccountCommand): Promise<ServiceAccountEntity> {
    const { realm, clientId, fence } = command;
    await fence.check('find client');
    const [found, inserted] = await Promise.allSettled([command.found ?? this.keycloak.ownership(realm, clientId), this.insertRow(command)]);
    if (inserted.status === 'rejected') throw inserted.reason;
    const row = inserted.value;
    try {
      if (found.status === 'rejected') throw found.reason;
      const client = command.found && found.value ? await this.keycloak.ownership(realm, clientId) : found.value;
      if (client) throw clientExists(realm, clientId, client.managed);
      return row;
    } catch (error) {
      await this.rows.repository
        .delete({ id: row.id, state: 'provisioning' })
        .catch((failure: unknown) => this.logger.warn(`could not remove the row of the refused create ${realm}/${clientId}; recovery will: ${reason(failure)}`));
      throw error;
    }
  }

  private async insertRow({ context, realm, clientId, spec, options }: ProvisionAccountCommand): Promise<ServiceAccountEntity> {
    const now = this.clock.now();
    const row = this.rows.repository.create({
      id: sortableId('sa', now),
      realm,
      clientId,
      keycloakId: null,
      ...columnsOf(spec),
      lastRotatedAt: now,
      nextRotationAt: new Date(now.getTime() + spec.secretRotation.everyDays * DAY_MS),
      managedBy: options.managedBy ?? 'api',
      gitopsSet: options.set?.name ?? null,
      source: options.source ?? context.source ?? null,
      specHash: specHash(spec),
      state: 'provisioning',
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    });
    try {
      // updateEntity(false): every column is set here, so TypeORM need not read the row back.
      await this.rows.repository.createQueryBuilder().insert().values(row).updateEntity(false).execute();
    } catch (error) {
      if (isLiveNameTaken(error)) throw new AccountRowExists(realm, clientId);
      throw error;
    }
    return row;
  }

  private async makeClient({ realm, spec, catalog, fence }: ProvisionAccountCommand, row: ServiceAccountEntity, clientSecret: string): Promise<void> {
    await faultPoint('provision.row-inserted');
    const grants = grantsOf(spec as ServiceAccountSpec, this.config.baseClientScopes, catalog);
    await fence.check('create client');
    row.keycloakId = await this.keycloak.createManagedClient(realm, clientSpecOf(row, spec, grants, this.config.tokenExchange.accessTokenLifespanSeconds), clientSecret);
    await faultPoint('provision.client-created');
    await fence.check('set grants');
    // By the UUID just answered: the client this create made, without a second look-up by name.
    await this.keycloak.setGrants(realm, row.clientId, grants, row.keycloakId);
    await faultPoint('provision.grants-set');
    await fence.check('store secret');
    const secretCiphertext = this.vault.encrypt(clientSecret, row.id);
    // Only the row this create inserted, still provisioning: a process paused past its lease may
    // find that recovery has removed the row and the client meanwhile.
    const stored = await this.rows.repository.update({ id: row.id, state: 'provisioning' }, { state: 'ready', keycloakId: row.keycloakId, secretCiphertext });
    if (!stored.affected) throw new LeaseLostError(fence.name, 'store secret');
    row.state = 'ready';
    row.secretCiphertext = secretCiphertext;
    await faultPoint('provision.ready');
  }

  /**
   * Removes the half-made client and the row; leaves both to recovery when it cannot. Having lost
   * the lease, it leaves them to the instance that holds it, unless that one's recovery has already
   * removed the row: then nothing would find the client again, and only this account's client
   * carries its id, so it is removed here without the lease.
   */
  private async undo(row: ServiceAccountEntity, fence: Fence, cause: unknown): Promise<void> {
    if (cause instanceof LeaseLostError) {
      if (await this.rows.repository.existsBy({ id: row.id })) return;
      await this.keycloak
        .deleteAccountClient(row.realm, { clientId: row.clientId, accountId: row.id, made: false })
        .catch((error: unknown) => this.logger.warn(`could not remove the client ${row.realm}/${row.clientId} left after a lost lease: ${reason(error)}`));
      return;
    }
    try {
      await fence.check('undo create');
      await this.keycloak.deleteAccountClient(row.realm, { clientId: row.clientId, accountId: row.id, made: false });
      await this.rows.repository.delete(row.id);
    } catch (error) {
      this.logger.warn(`could not undo the half-made client ${row.realm}/${row.clientId}; recovery will: ${reason(error)}`);
    }
  }
}
