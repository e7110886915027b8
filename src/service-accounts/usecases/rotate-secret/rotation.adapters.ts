import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AuditService } from '../../../audit/index.js';
import type { OperationContext } from '../../../common/context/operation-context.js';
import { Clock } from '../../../common/time/clock.js';
import { KeycloakClientsGateway, KeycloakService } from '../../../keycloak/index.js';
import { WebhooksService } from '../../../webhooks/index.js';
import { ServiceAccountEntity } from '../../entities/service-account.entity.js';
import { ServiceAccountEvents } from '../../service-account.events.js';
import { toServiceAccountView } from '../../service-account.view.js';
import type { RotationKeycloakPort, RotationNotice, RotationNotifierPort, RotationStorePort } from './rotation.ports.js';

/** The rotation machine's view of Keycloak, over the clients gateway and the token endpoint. */
@Injectable()
export class KeycloakRotationAdapter implements RotationKeycloakPort {
  constructor(
    private readonly gateway: KeycloakClientsGateway,
    private readonly keycloak: KeycloakService,
  ) {}

  currentSecret(realm: string, clientId: string): Promise<string> {
    return this.gateway.clientSecret(realm, clientId);
  }

  rotatedSecret(realm: string, clientId: string): Promise<string | null> {
    return this.gateway.rotatedSecret(realm, clientId);
  }

  regenerate(realm: string, clientId: string): Promise<string> {
    return this.gateway.regenerateSecret(realm, clientId);
  }

  invalidateRotated(realm: string, clientId: string): Promise<void> {
    return this.gateway.invalidateRotatedSecret(realm, clientId);
  }

  async accepts(realm: string, clientId: string, secret: string): Promise<boolean> {
    return (await this.keycloak.clientCredentials(realm, clientId, secret)).ok;
  }
}

/** Persists each step on the account row (and on the entity in hand, so the machine reads its own writes). */
@Injectable()
export class RotationRowStore implements RotationStorePort {
  constructor(
    @InjectRepository(ServiceAccountEntity) private readonly accounts: Repository<ServiceAccountEntity>,
    private readonly clock: Clock,
  ) {}

  async save(row: ServiceAccountEntity, changes: Partial<ServiceAccountEntity>): Promise<void> {
    Object.assign(row, changes, { updatedAt: this.clock.now() });
    await this.accounts.update(row.id, { ...changes, updatedAt: row.updatedAt });
  }
}

/**
 * Audit events and webhooks for a rotation's milestones (never a secret in either), and the
 * in-process `secret-rotated` notification (token exchange drops the tokens it cached).
 */
@Injectable()
export class RotationNotifier implements RotationNotifierPort {
  constructor(
    private readonly audit: AuditService,
    private readonly webhooks: WebhooksService,
    private readonly events: ServiceAccountEvents,
  ) {}

  async notify(context: OperationContext, row: ServiceAccountEntity, notice: RotationNotice): Promise<void> {
    await this.record(context, row, notice);
    await this.events.publish({ type: 'secret-rotated', account: toServiceAccountView(row), context });
  }

  private async record(context: OperationContext, row: ServiceAccountEntity, notice: RotationNotice): Promise<void> {
    const base = { realm: row.realm, clientId: row.clientId };
    if (notice.type === 'rotated') {
      const previousSecretValidUntil = notice.previousSecretValidUntil.toISOString();
      await this.audit.record(context, { action: 'client_secret.rotated', ...base, detail: { graceHours: notice.graceHours, previousSecretValidUntil, rotationId: notice.rotationId } });
      await this.webhooks.publish('client_secret.rotated', { ...base, previousSecretValidUntil });
      return;
    }
    if (notice.type === 'previous-invalidated') {
      await this.audit.record(context, { action: 'client_secret.previous_invalidated', ...base, detail: { rotationId: notice.rotationId } });
      return;
    }
    await this.audit.record(context, { action: 'client_secret.mismatch', outcome: 'failure', ...base, detail: { rotationId: notice.rotationId, reason: notice.reason, repaired: 'adopted Keycloak\'s current secret' } });
    await this.webhooks.publish('client_secret.mismatch', { ...base, reason: notice.reason, repaired: true });
  }
}
