import { describe, expect, it } from '@jest/globals';
import type { Repository } from 'typeorm';
import { Clock } from '../../../common/time/clock.js';
import type { AppConfig } from '../../../config/app-config.js';
import type { KeycloakClientsGateway, SecretRotationSupport } from '../../../keycloak/index.js';
import type { ServiceAccountEntity } from '../../entities/service-account.entity.js';
import { RotationSupportService, SUPPORT_TTL_MS } from './rotation-support.service.js';

class MovableClock extends Clock {
  at = Date.parse('2030-01-01T00:00:00Z');
  override now(): Date {
    return new Date(this.at);
  }
}

describe('RotationSupportService', () => {
  it("reads a realm's support again once the last read is SUPPORT_TTL_MS old: a policy removed after start-up is seen", async () => {
    let current: SecretRotationSupport = { feature: true, policy: true, expirationPeriodSeconds: null };
    let reads = 0;
    const gateway = {
      secretRotationSupport: async () => {
        reads += 1;
        return current;
      },
    } as unknown as KeycloakClientsGateway;
    const clock = new MovableClock();
    const service = new RotationSupportService({} as Repository<ServiceAccountEntity>, gateway, { managedRealms: ['platform'] } as unknown as AppConfig, clock);

    expect(await service.supportFor('platform')).toMatchObject({ policy: true });
    // An admin removes Keysmith's client policy.
    current = { feature: true, policy: false, expirationPeriodSeconds: null };
    clock.at += SUPPORT_TTL_MS - 1;
    expect(await service.supportFor('platform')).toMatchObject({ policy: true });
    expect(reads).toBe(1);
    clock.at += 1;
    expect(await service.supportFor('platform')).toMatchObject({ policy: false });
    expect(reads).toBe(2);
    // refresh reads at once.
    current = { feature: true, policy: true, expirationPeriodSeconds: null };
    expect(await service.supportFor('platform', true)).toMatchObject({ policy: true });
    expect(reads).toBe(3);
  });
});
