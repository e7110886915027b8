import { createHmac } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { sortableId } from '../common/ids/ids.js';
import { Clock } from '../common/time/clock.js';
import { AppConfig } from '../config/app-config.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';

export type WebhookEventType =
  | 'api_key.expiring'
  | 'api_key.expired'
  | 'client_secret.rotated'
  | 'client_secret.rotation_failed'
  | 'client_secret.mismatch';

export const SIGNATURE_HEADER = 'x-keysmith-signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as receivers recompute it. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Sends signed JSON events to the configured URLs, retrying with backoff a bounded number of
 * times, and records every attempt. Event data never carries a secret or a key.
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    @InjectRepository(WebhookDeliveryEntity) private readonly deliveries: Repository<WebhookDeliveryEntity>,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** Delivers to every URL; resolves when each has succeeded or used up its attempts. */
  async publish(type: WebhookEventType, data: Record<string, unknown>): Promise<{ eventId: string; delivered: number; failed: number }> {
    const { urls, maxAttempts } = this.config.webhooks;
    const eventId = sortableId('whe', this.clock.now());
    if (urls.length === 0) return { eventId, delivered: 0, failed: 0 };
    const body = JSON.stringify({ id: eventId, type, at: this.clock.now().toISOString(), data });
    const results = await Promise.all(urls.map((url) => this.deliver(eventId, type, url, body, maxAttempts)));
    return { eventId, delivered: results.filter(Boolean).length, failed: results.filter((ok) => !ok).length };
  }

  private async deliver(eventId: string, type: string, url: string, body: string, maxAttempts: number): Promise<boolean> {
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      const timestamp = Math.floor(this.clock.nowMs() / 1000);
      let status: number | null = null;
      let error: string | null = null;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-keysmith-event': type,
            'x-keysmith-delivery': eventId,
            [SIGNATURE_HEADER]: signWebhook(this.config.webhooks.secret, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(this.config.webhooks.timeoutMs),
        });
        status = response.status;
        await response.body?.cancel();
      } catch (cause) {
        error = (cause as Error).name;
      }
      const delivered = status !== null && status >= 200 && status < 300;
      await this.deliveries.insert({ id: sortableId('whd', this.clock.now()), eventId, event: type, url, attempt, status, error, delivered, at: this.clock.now() });
      if (delivered) return true;
      if (attempt < maxAttempts) await new Promise((resolve) => setTimeout(resolve, this.config.webhooks.retryBaseMs * 2 ** (attempt - 1)));
    }
    this.logger.warn(`webhook ${type} to ${new URL(url).origin} failed after ${maxAttempts} attempts`);
    return false;
  }

  attempts(eventId: string): Promise<WebhookDeliveryEntity[]> {
    return this.deliveries.find({ where: { eventId }, order: { attempt: 'ASC' } });
  }
}
