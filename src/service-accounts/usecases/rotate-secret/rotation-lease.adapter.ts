import { Injectable } from '@nestjs/common';
import { AccountLease } from '../../lease/account-lease.js';
import type { AccountLeasePort, RotationFence } from './rotation.ports.js';

/** The rotation machine's lease: the per-account lease every change takes, its fence checked per step. */
@Injectable()
export class RotationLeaseAdapter implements AccountLeasePort {
  constructor(private readonly lease: AccountLease) {}

  withAccount<T>(realm: string, clientId: string, body: (fence: RotationFence) => Promise<T>): Promise<T> {
    return this.lease.withAccountLease(realm, clientId, (fence) => body((step) => fence.check(step)));
  }

  tryWithAccount(realm: string, clientId: string, body: (fence: RotationFence) => Promise<void>): Promise<boolean> {
    return this.lease.tryWithAccountLease(realm, clientId, (fence) => body((step) => fence.check(step)));
  }
}
