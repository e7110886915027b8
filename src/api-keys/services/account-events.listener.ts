import { Injectable, OnModuleInit } from '@nestjs/common';
import { ServiceAccountEvents, type ServiceAccountEvent } from '../../service-accounts/service-account.events.js';
import { ApiKeyVerificationService } from './api-key-verification.service.js';
import { ApiKeysService } from './api-keys.service.js';

/**
 * Keeps keys in step with their service account: a change (enabled, owner, policy) drops cached
 * verifications at once; a deletion revokes every key of the account, audited as the deleter.
 */
@Injectable()
export class AccountEventsListener implements OnModuleInit {
  constructor(
    private readonly events: ServiceAccountEvents,
    private readonly keys: ApiKeysService,
    private readonly verification: ApiKeyVerificationService,
  ) {}

  onModuleInit(): void {
    this.events.subscribe((event) => this.handle(event));
  }

  async handle(event: ServiceAccountEvent): Promise<void> {
    const { realm, clientId } = event.account;
    this.verification.forgetAccount(realm, clientId);
    if (event.type === 'deleted') {
      await this.keys.revokeAllOf(event.context, realm, clientId, 'service account deleted');
    }
  }
}
