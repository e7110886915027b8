import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { LeaseStore } from '../../common/leases/lease.store.js';
import { Leases, type Fence } from '../../common/leases/leases.js';
import { AppConfig } from '../../config/app-config.js';

const PREFIX = 'account:';

/**
 * The per-account lock, shared by every instance on the database: create, PUT, PATCH, DELETE,
 * secret rotation (API and job), drift repair and recovery each run under it. The body gets a
 * fence; it calls `fence.check('<step>')` before each Keycloak step, which throws LeaseLostError
 * (503 LEASE_LOST) once the lease expired or changed hands, so a paused instance writes nothing.
 */
@Injectable()
export class AccountLease {
  constructor(
    private readonly leases: Leases,
    private readonly store: LeaseStore,
    private readonly config: AppConfig,
  ) {}

  static leaseName(realm: string, clientId: string): string {
    return `${PREFIX}${realm}/${clientId}`;
  }

  /**
   * Runs `body` holding the account's lease, waiting for another holder up to
   * KEYSMITH_ACCOUNT_LEASE_WAIT_SECONDS (then 409 ACCOUNT_BUSY). Concurrent changes thus serialize.
   */
  withAccountLease<T>(realm: string, clientId: string, body: (fence: Fence) => Promise<T>): Promise<T> {
    const { ttlMs, waitMs } = this.config.accountLease;
    const busy = () =>
      new DomainError(ErrorCode.AccountBusy, `Service account ${realm}/${clientId} is being changed by another request; retry.`, { clientId }, { 'retry-after': '1' });
    return this.leases.run(AccountLease.leaseName(realm, clientId), { ttlMs, waitMs, busy }, body);
  }

  /** Runs `body` only when nobody holds the account's lease now (recovery); false when someone does. */
  tryWithAccountLease(realm: string, clientId: string, body: (fence: Fence) => Promise<void>): Promise<boolean> {
    return this.leases.tryRun(AccountLease.leaseName(realm, clientId), this.config.accountLease.ttlMs, body);
  }
}
