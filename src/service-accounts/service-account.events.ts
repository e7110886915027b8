import { Injectable, Logger } from '@nestjs/common';
import { accountChange, ChangeFeed } from '../common/changes/index.js';
import type { OperationContext } from '../common/context/operation-context.js';
import type { ServiceAccountView } from './service-account.view.js';

export type ServiceAccountEvent =
  /** A new account: no key can be linked to it yet. */
  | { type: 'created'; account: ServiceAccountView; context: OperationContext }
  | { type: 'changed'; account: ServiceAccountView; context: OperationContext }
  | { type: 'deleted'; account: ServiceAccountView; context: OperationContext }
  /** A new client secret was stored, or the previous one ended. */
  | { type: 'secret-rotated'; account: ServiceAccountView; context: OperationContext };

type Listener = (event: ServiceAccountEvent) => Promise<void> | void;

/**
 * Notifications about service accounts, so that other features react without the service-accounts
 * feature depending on them. Each event is first published on the change feed (every instance
 * drops what it cached about the account: verifications, exchanged tokens, caller lookups); then
 * the in-process listeners (API keys: revoke on delete, re-check scopes) run in order and are
 * awaited. A listener's failure is logged and does not undo the change.
 */
@Injectable()
export class ServiceAccountEvents {
  private readonly logger = new Logger(ServiceAccountEvents.name);
  private readonly listeners: Listener[] = [];

  constructor(private readonly changes: ChangeFeed) {}

  subscribe(listener: Listener): void {
    this.listeners.push(listener);
  }

  async publish(event: ServiceAccountEvent): Promise<void> {
    await this.changes.publish(accountChange(event.account.realm, event.account.clientId));
    for (const listener of this.listeners) {
      try {
        await listener(event);
      } catch (error) {
        this.logger.error({ err: error }, `service account ${event.type} listener failed for ${event.account.realm}/${event.account.clientId}`);
      }
    }
  }
}
