import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ChangeFeed } from '../../common/changes/index.js';
import { ApiKeyVerificationService } from './api-key-verification.service.js';

/**
 * Drops cached verifications when the change feed says a key or an account changed, on whichever
 * instance the change was made: at once on that one, within a poll (1 s) or a notification on the
 * others (see the README, Topology).
 */
@Injectable()
export class KeyCacheListener implements OnModuleInit {
  constructor(
    private readonly changes: ChangeFeed,
    private readonly verification: ApiKeyVerificationService,
  ) {}

  onModuleInit(): void {
    this.changes.subscribe((change) => {
      if (change.kind === 'key') this.verification.forgetKeyHash(change.keyHash);
      else if (change.kind === 'account') this.verification.forgetAccount(change.realm, change.clientId);
      else this.verification.forgetAll();
    });
  }
}
