import { Injectable, OnModuleInit } from '@nestjs/common';
import { AccountChangeFeed, type AccountChange } from '../ports/account-change-feed.port.js';
import { ApiKeyVerificationService } from './api-key-verification.service.js';
import { ApiKeysService } from './api-keys.service.js';

/**
 * Keeps keys in step with their service account: a change (enabled, owner, policy) drops cached
 * verifications at once; a deletion revokes every key of the account, audited as the deleter.
 */
@Injectable()
export class AccountEventsListener implements OnModuleInit {
  constructor(
    private readonly events: AccountChangeFeed,
    private readonly keys: ApiKeysService,
    private readonly verification: ApiKeyVerificationService,
  ) {}

  onModuleInit(): void {
    this.events.subscribe((event) => this.handle(event));
  }

  async handle(event: AccountChange): Promise<void> {
    const { realm, clientId } = event.account;
    this.verification.forgetAccount(realm, clientId);
    if (event.type === 'deleted') {
      await this.keys.revokeAllOf(event.context, realm, clientId, 'service account deleted');
    }
  }
}
