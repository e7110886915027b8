import { Injectable, Logger } from '@nestjs/common';

/** A key stopped being usable as it was: revoked, or rotated (it now expires at the grace end). */
export interface ApiKeyEvent {
  type: 'revoked' | 'rotated';
  keyId: string;
  realm: string;
  clientId: string;
}

type Listener = (event: ApiKeyEvent) => void;

/**
 * In-process notifications about keys, so that what other features cached for a key (exchanged
 * tokens) is dropped at once on the instance that made the change. Listeners are synchronous and
 * must not throw; a failure is logged and does not undo the change.
 */
@Injectable()
export class ApiKeyEvents {
  private readonly logger = new Logger(ApiKeyEvents.name);
  private readonly listeners: Listener[] = [];

  subscribe(listener: Listener): void {
    this.listeners.push(listener);
  }

  publish(event: ApiKeyEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error }, `API key ${event.type} listener failed for ${event.keyId}`);
      }
    }
  }
}
