import { Injectable, Logger } from '@nestjs/common';
import type { OperationContext } from '../common/context/operation-context.js';
import type { ServiceAccountView } from './service-account.view.js';

export type ServiceAccountEvent =
  | { type: 'changed'; account: ServiceAccountView; context: OperationContext }
  | { type: 'deleted'; account: ServiceAccountView; context: OperationContext }
  /** A new client secret was stored, or the previous one ended. */
  | { type: 'secret-rotated'; account: ServiceAccountView; context: OperationContext };

type Listener = (event: ServiceAccountEvent) => Promise<void> | void;

/**
 * In-process notifications about service accounts, so that other features (API keys: revoke on
 * delete, drop cached verifications on change; token exchange: drop cached tokens) react without
 * the service-accounts feature depending on them. Listeners run in order and are awaited; a listener's failure is logged and
 * does not undo the change.
 */
@Injectable()
export class ServiceAccountEvents {
  private readonly logger = new Logger(ServiceAccountEvents.name);
  private readonly listeners: Listener[] = [];

  subscribe(listener: Listener): void {
    this.listeners.push(listener);
  }

  async publish(event: ServiceAccountEvent): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(event);
      } catch (error) {
        this.logger.error({ err: error }, `service account ${event.type} listener failed for ${event.account.realm}/${event.account.clientId}`);
      }
    }
  }
}
