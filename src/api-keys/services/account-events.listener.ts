import { Injectable, OnModuleInit } from '@nestjs/common';
import { AccountChangeFeed, type AccountChange } from '../ports/account-change-feed.port.js';
import { ApiKeysService } from './api-keys.service.js';

/**
 * Keeps keys in step with their service account: a deletion revokes every key of the account,
 * audited as the deleter. (Cached verifications are dropped by the change feed: KeyCacheListener.)
 */
@Injectable()
export class AccountEventsListener implements OnModuleInit {
  constructor(
    private readonly events: AccountChangeFeed,
    private readonly keys: ApiKeysService,
  ) {}

  onModuleInit(): void {
    this.events.subscribe((event) => this.handle(event));
  }

  async handle(event: AccountChange): Promise<void> {
    if (event.type === 'deleted') {
      await this.keys.revokeAllOf(event.context, event.account, 'service account deleted');
    }
  }
}
