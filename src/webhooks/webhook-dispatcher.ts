import { createHash } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Random } from '../common/random/random.js';
import { Clock } from '../common/time/clock.js';
import { Sql } from '../database/sql.js';
import { AppConfig } from '../config/app-config.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { afterAttempt, isDelivered, type AttemptResult } from './webhook-retry.js';
import { WebhookSender } from './webhook-sender.js';

/** Attempts claimed and sent together. */
const BATCH = 20;
/** How often each instance looks for deliveries it was not told about (other instances', stale claims). */
const POLL_MS = 1_000;
/** A claim outlives the longest attempt by this much; after it, the attempt is taken over. */
const CLAIM_MARGIN_MS = 30_000;

/**
 * The id of attempt `attempt` of `eventId` to `url`: the same on every instance, so an attempt
 * written twice (a worker died between writing the next attempt and finishing its own) is one row.
 */
export function attemptId(eventId: string, url: string, attempt: number): string {
  return `whd_${createHash('sha256').update(`${eventId}\n${url}\n${attempt}`).digest('hex').slice(0, 32)}`;
}

/**
 * The background worker sending webhook deliveries from the outbox (`webhook_deliveries`), so a
 * slow receiver slows no request and no job. Every instance runs one: an attempt is claimed with a
 * conditional UPDATE (pending and due, or claimed by a worker whose claim expired), so two
 * instances never send it together; a worker killed mid-attempt leaves a claim that expires and
 * is taken over (at-least-once: receivers deduplicate by `X-Keysmith-Delivery`). A failed attempt
 * writes the next one at its backoff time (webhook-retry.ts).
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private running?: Promise<void>;
  private again = false;
  private started = false;
  /** Set at shutdown: a drain stops after the batch it is sending. */
  private stopping = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  private readonly sql: Sql;

  constructor(
    @InjectRepository(WebhookDeliveryEntity) private readonly deliveries: Repository<WebhookDeliveryEntity>,
    private readonly sender: WebhookSender,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {
    this.sql = new Sql(deliveries.manager.connection);
  }

  onApplicationBootstrap(): void {
    this.started = true;
    const poll = setInterval(() => this.kick(), POLL_MS);
    poll.unref();
    this.timers.add(poll);
    this.kick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.started = false;
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.running;
  }

  /** Asks for a drain now (after a publish, or when a retry falls due); never waits for it. */
  kick(): void {
    if (!this.started) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drainWhileAsked().finally(() => (this.running = undefined));
  }

  /** Sends every attempt due now, batch by batch; returns how many this worker made. */
  async drain(): Promise<number> {
    let made = 0;
    for (;;) {
      const due = await this.due();
      const results = await Promise.all(due.map((row) => this.attempt(row)));
      made += results.filter(Boolean).length;
      if (due.length < BATCH || this.stopping) return made;
    }
  }

  /** Claims, sends and records one attempt; false when another worker holds it. */
  async attempt(row: WebhookDeliveryEntity): Promise<boolean> {
    const claim = await this.claim(row.id);
    if (!claim) return false;
    const result = await this.sender.send({ eventId: row.eventId, event: row.event, url: row.url, body: row.body ?? '' });
    await this.finish(row, claim, result);
    return true;
  }

  private async drainWhileAsked(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.drain();
      } catch (error) {
        this.logger.error({ err: error }, 'webhook delivery failed to run; retrying at the next poll');
      }
    } while (this.again && this.started);
  }

  private due(): Promise<WebhookDeliveryEntity[]> {
    const now = this.clock.nowMs();
    return this.deliveries
      .createQueryBuilder('d')
      .where("(d.state = 'pending' AND d.nextAttemptAt <= :now) OR (d.state = 'sending' AND d.claimExpiresAt < :now)", { now })
      .orderBy('d.nextAttemptAt', 'ASC')
      .addOrderBy('d.id', 'ASC')
      .take(BATCH)
      .getMany();
  }

  /** The conditional UPDATE: only one worker turns a due attempt into its own. */
  private async claim(id: string): Promise<string | null> {
    const now = this.clock.nowMs();
    const token = this.random.bytes(12).toString('hex');
    const result = await this.deliveries
      .createQueryBuilder()
      .update()
      .set({ state: 'sending', claimedBy: token, claimExpiresAt: now + this.config.webhooks.timeoutMs + CLAIM_MARGIN_MS })
      .where("id = :id AND ((state = 'pending' AND next_attempt_at <= :now) OR (state = 'sending' AND claim_expires_at < :now))", { id, now })
      .execute();
    return result.affected === 1 ? token : null;
  }

  /**
   * Writes the next attempt first, then closes this one. The next attempt is written only while the
   * claim is still ours (one conditional statement) and at most once (its id is the same on every
   * instance), so a worker killed in between leaves a claim that expires and a retry that is not
   * doubled, and a worker that outlived its claim writes nothing.
   */
  private async finish(row: WebhookDeliveryEntity, claim: string, result: AttemptResult): Promise<void> {
    const finishedAt = this.clock.now();
    const next = afterAttempt(row.attempt, result, this.config.webhooks, finishedAt.getTime());
    if (next.kind === 'retry') {
      await this.sql.run(
        `INSERT INTO webhook_deliveries (id, event_id, event, url, attempt, status, error, delivered, at, state, body, next_attempt_at)
         SELECT CAST(? AS varchar), event_id, event, url, CAST(? AS integer), NULL, NULL, FALSE, ${this.sql.timeParam}, 'pending', body, CAST(? AS bigint) FROM webhook_deliveries
         WHERE id = ? AND state = 'sending' AND claimed_by = ?
         ON CONFLICT (id) DO NOTHING`,
        [attemptId(row.eventId, row.url, next.attempt), next.attempt, this.sql.time(finishedAt), next.at, row.id, claim],
      );
    }
    const closed = await this.deliveries
      .createQueryBuilder()
      .update()
      .set({ state: 'done', status: result.status, error: result.error, delivered: isDelivered(result), at: finishedAt, claimedBy: null, claimExpiresAt: null })
      .where("id = :id AND state = 'sending' AND claimed_by = :claim", { id: row.id, claim })
      .execute();
    if (closed.affected !== 1) {
      this.logger.warn(`webhook ${row.event} attempt ${row.attempt} outlived its claim; another worker took it over`);
      return;
    }
    if (next.kind === 'retry') this.wakeAt(next.at);
    if (next.kind === 'given-up') this.logger.warn(`webhook ${row.event} to ${new URL(row.url).origin} failed after ${row.attempt} attempts`);
  }

  private wakeAt(atMs: number): void {
    if (!this.started) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.kick();
    }, Math.max(0, atMs - this.clock.nowMs()));
    timer.unref();
    this.timers.add(timer);
  }
}

/** A pending attempt row: sent by a worker once `nextAttemptAt` has come. */
export function pendingAttempt(
  webhook: { eventId: string; event: string; url: string; body: string },
  attempt: number,
  writtenAt: Date,
  nextAttemptAt: number,
): Partial<WebhookDeliveryEntity> {
  return {
    id: attemptId(webhook.eventId, webhook.url, attempt),
    ...webhook,
    attempt,
    status: null,
    error: null,
    delivered: false,
    at: writtenAt,
    state: 'pending',
    nextAttemptAt,
    claimedBy: null,
    claimExpiresAt: null,
  };
}
