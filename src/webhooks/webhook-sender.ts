import { createHmac } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/time/clock.js';
import { AppConfig } from '../config/app-config.js';
import type { AttemptResult } from './webhook-retry.js';

export const SIGNATURE_HEADER = 'x-keysmith-signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as receivers recompute it. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What one attempt sends. */
export interface OutgoingWebhook {
  eventId: string;
  event: string;
  url: string;
  body: string;
}

/** One HTTP attempt: the signed POST, bounded by KEYSMITH_WEBHOOK_TIMEOUT_MS. Never throws. */
@Injectable()
export class WebhookSender {
  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async send(webhook: OutgoingWebhook): Promise<AttemptResult> {
    // Signed when sent, so a retry carries a fresh timestamp that receivers accept.
    const timestamp = Math.floor(this.clock.nowMs() / 1000);
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-keysmith-event': webhook.event,
          'x-keysmith-delivery': webhook.eventId,
          [SIGNATURE_HEADER]: signWebhook(this.config.webhooks.secret, timestamp, webhook.body),
        },
        body: webhook.body,
        // A redirect is the receiver's answer, not a delivery: following it would send the signed
        // event elsewhere (307/308) or turn it into a GET without its body (301-303) that may
        // "succeed". It counts as a failed attempt, retried and recorded with its status.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.webhooks.timeoutMs),
      });
      await response.body?.cancel();
      return { status: response.status, error: null };
    } catch (cause) {
      return { status: null, error: (cause as Error).name };
    }
  }
}
