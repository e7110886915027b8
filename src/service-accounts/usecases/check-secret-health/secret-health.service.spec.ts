import { describe, expect, it } from '@jest/globals';
import type { Repository } from 'typeorm';
import type { AuditService } from '../../../audit/index.js';
import type { OperationContext } from '../../../common/context/operation-context.js';
import { MetricsRegistry } from '../../../common/metrics/metrics.registry.js';
import { Clock } from '../../../common/time/clock.js';
import type { AppConfig } from '../../../config/app-config.js';
import type { SecretVault } from '../../../secrets/index.js';
import type { WebhooksService } from '../../../webhooks/index.js';
import type { ServiceAccountEntity } from '../../entities/service-account.entity.js';
import type { KeycloakRotationAdapter } from '../rotate-secret/rotation.adapters.js';
import type { AccountLeasePort } from '../rotate-secret/rotation.ports.js';
import { RotateSecretUseCase } from '../rotate-secret/rotate-secret.usecase.js';
import type { SecretRotationService } from '../rotate-secret/secret-rotation.service.js';
import { FakeRotationKeycloak, fakeVault } from '../../testing/rotation-fakes.js';
import { SecretHealthService } from './secret-health.service.js';

class FixedClock extends Clock {
  at = Date.parse('2030-03-01T02:00:00Z');
  override now(): Date {
    return new Date(this.at);
  }
}


/**
 * The job lists the accounts at the start of a paced run; a rotation (the secret-rotation job, or
 * POST .../secret/rotate on another instance) completes before this account's turn.
 */
function setUp(repair: boolean) {
  const keycloak = new FakeRotationKeycloak();
  const clock = new FixedClock();
  const table: Record<string, unknown> = {
    id: 'sa_1',
    realm: 'platform',
    clientId: 'orders',
    state: 'ready',
    deletedAt: null,
    secretCiphertext: fakeVault.encrypt('secret-0', 'sa_1'),
    secretRotationStep: null,
    secretRotationId: null,
    secretRotationGraceHours: null,
    previousSecretValidUntil: null,
    rotationEveryDays: 90,
    rotationGraceHours: 24,
  };
  const store = {
    save: async (row: ServiceAccountEntity, changes: Partial<ServiceAccountEntity>) => {
      Object.assign(row, changes);
      Object.assign(table, changes);
    },
  };
  const machine = new RotateSecretUseCase(keycloak, store, fakeVault, { notify: async () => undefined }, clock, () => 'rot_1');
  const run = { context: {} as OperationContext, fence: async () => undefined };
  const rotated: string[] = [];
  const accounts = {
    find: async () => {
      const listed = [{ ...table }];
      await machine.start(run, { ...table } as unknown as ServiceAccountEntity, 24);
      rotated.push(fakeVault.decrypt(table.secretCiphertext as string, 'sa_1'));
      return listed;
    },
    findOneBy: async () => ({ ...table }),
  } as unknown as Repository<ServiceAccountEntity>;
  const lease = { withAccount: (_realm: string, _clientId: string, body: (fence: () => Promise<void>) => Promise<unknown>) => body(async () => undefined) } as unknown as AccountLeasePort;
  const audits: { action: string }[] = [];
  const audit = { record: async (_context: unknown, event: { action: string }) => void audits.push(event) } as unknown as AuditService;
  const config = { managedRealms: ['platform'], jobs: { secretHealth: { ratePerSecond: 1_000, spreadMs: 0, repair } } } as unknown as AppConfig;
  const service = new SecretHealthService(
    accounts,
    lease,
    { machine } as unknown as SecretRotationService,
    audit,
    { publish: async () => undefined } as unknown as WebhooksService,
    clock,
    config,
    new MetricsRegistry(),
    keycloak as unknown as KeycloakRotationAdapter,
    fakeVault as unknown as SecretVault,
  );
  return { service, keycloak, audits, rotated };
}

describe('SecretHealthService', () => {
  it.each([false, true])('judges each account by its row at its turn: a rotation since the list was read is no mismatch (repair %s)', async (repair) => {
    const { service, keycloak, audits, rotated } = setUp(repair);
    const outcomes = await service.checkAll({} as OperationContext, false);
    expect(outcomes.map((outcome) => outcome.result)).toEqual(['ok']);
    expect(audits.filter((event) => event.action === 'client_secret.mismatch')).toEqual([]);
    // The secret the rotation handed out still works, and so does the previous one in its grace window.
    expect(rotated).toEqual([keycloak.current]);
    expect(keycloak.current).not.toBe('secret-0');
    expect(await keycloak.accepts('platform', 'orders', keycloak.current)).toBe(true);
    expect(await keycloak.accepts('platform', 'orders', 'secret-0')).toBe(true);
  });
});
