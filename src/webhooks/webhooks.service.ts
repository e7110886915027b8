import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { sortableId } from '../common/ids/ids.js';
import { Clock } from '../common/time/clock.js';
import { AppConfig } from '../config/app-config.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { pendingAttempt, WebhookDispatcher } from './webhook-dispatcher.js';

export { signWebhook } from './webhook-sender.js';

export type WebhookEventType =
  | 'api_key.expiring'
  | 'api_key.expired'
  | 'client_secret.rotated'
  | 'client_secret.rotation_failed'
  | 'client_secret.mismatch'
  | 'service_account.orphaned';

/**
 * Publishes signed JSON events to the configured URLs through the outbox: `publish` only writes
 * the first attempt of each delivery and returns; the WebhookDispatcher sends it in the
 * background, retries with backoff a bounded number of times, and records every attempt. Event
 * data never carries a secret or a key.
 */
@Injectable()
export class WebhooksService {
  constructor(
    @InjectRepository(WebhookDeliveryEntity) private readonly deliveries: Repository<WebhookDeliveryEntity>,
    private readonly dispatcher: WebhookDispatcher,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** Queues the event for every URL; resolves once it is stored, before any is sent. */
  async publish(type: WebhookEventType, data: Record<string, unknown>): Promise<{ eventId: string; queued: number }> {
    const { urls } = this.config.webhooks;
    const now = this.clock.now();
    const eventId = sortableId('whe', now);
    if (urls.length === 0) return { eventId, queued: 0 };
    const body = JSON.stringify({ id: eventId, type, at: now.toISOString(), data });
    await this.deliveries.insert(urls.map((url) => pendingAttempt({ eventId, event: type, url, body }, 1, now, now.getTime())));
    this.dispatcher.kick();
    return { eventId, queued: urls.length };
  }

  /** Every attempt of an event so far, in order (pending ones included). */
  attempts(eventId: string): Promise<WebhookDeliveryEntity[]> {
    return this.deliveries.find({ where: { eventId }, order: { attempt: 'ASC' } });
  }
}
