import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, MoreThanOrEqual, Repository, type FindOptionsWhere, And } from 'typeorm';
import type { OperationContext } from '../common/context/operation-context.js';
import { decodeCursor, toPage, type Page } from '../common/http/pagination.js';
import { sortableId } from '../common/ids/ids.js';
import { Clock } from '../common/time/clock.js';
import { AuditEventEntity, type Outcome } from './audit-event.entity.js';
import { z } from 'zod';
import { AuditOwnerLookup } from './ports/audit-owner-lookup.port.js';

export interface AuditRecord {
  action: string;
  outcome?: Outcome;
  realm?: string | null;
  clientId?: string | null;
  target?: string | null;
  detail?: Record<string, unknown>;
  /** The owner the event belongs to, when the caller knows it; otherwise it is worked out (see `ownerFor`). */
  owner?: string | null;
}

export interface AuditFilter {
  action?: string;
  realm?: string;
  clientId?: string;
  actor?: string;
  since?: Date;
  until?: Date;
}

const dateTime = z.iso.datetime({ offset: true });

/** One audit event as the API lists and exports it; the type and the OpenAPI schema come from here. */
export const auditEventViewSchema = z
  .object({
    id: z.string(),
    at: dateTime,
    actor: z.object({ type: z.enum(['jwt', 'api-key', 'job', 'cli', 'anonymous']), id: z.string().nullable() }),
    action: z.string().meta({ example: 'api_key.issued' }),
    realm: z.string().nullable(),
    clientId: z.string().nullable(),
    target: z.string().nullable(),
    outcome: z.enum(['success', 'failure']),
    detail: z.record(z.string(), z.unknown()),
    requestId: z.string().nullable(),
    source: z.string().nullable(),
    owner: z.string().nullable().describe('Owner of the account concerned, for owner-bound callers'),
  })
  .meta({ title: 'AuditEvent' });

export type AuditEventView = z.infer<typeof auditEventViewSchema>;

export const auditEventPageSchema = z.object({ items: z.array(auditEventViewSchema), nextCursor: z.string().nullable() }).meta({ title: 'AuditEventPage' });

// Detail fields with these names are dropped: a defence in depth against a caller passing a secret.
const SECRET_FIELD = /secret|password|token|^key$|apikey|api_key|hash|pepper/i;

/**
 * Writes and reads the audit log. Each event belongs to an owner, so owner-bound callers read only
 * their owner's events; events of no owner (Keysmith's own, and those written before owners were
 * recorded) are shown only to unconfined callers.
 */
@Injectable()
export class AuditService {
  constructor(
    @InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>,
    private readonly clock: Clock,
    private readonly owners: AuditOwnerLookup,
  ) {}

  async record(context: OperationContext, record: AuditRecord): Promise<void> {
    const at = this.clock.now();
    const owner = await this.ownerFor(context, record);
    await this.events.createQueryBuilder().insert().updateEntity(false).values({
      id: sortableId('evt', at),
      at,
      actorType: context.actor.type,
      actorId: context.actor.id,
      action: record.action,
      realm: record.realm ?? null,
      clientId: record.clientId ?? null,
      target: record.target ?? null,
      outcome: record.outcome ?? 'success',
      detail: scrub({ ...(record.detail ?? {}), ...(context.source ? { source: context.source } : {}) }) as never,
      requestId: context.requestId,
      owner,
    }).execute();
  }

  /**
   * An owner-bound caller acts only within its owner, so its events (refusals included) are its
   * owner's. Otherwise the event belongs to the owner of the account it is about, if any.
   */
  private async ownerFor(context: OperationContext, record: AuditRecord): Promise<string | null> {
    if (context.owner) return context.owner;
    if (record.owner !== undefined) return record.owner;
    if (record.realm && record.clientId) return this.owners.ownerOf(record.realm, record.clientId);
    return null;
  }

  /** A page of events, newest first; `owner` confines it to one owner's events. */
  async list(filter: AuditFilter, limit: number, cursor?: string, owner: string | null = null): Promise<Page<AuditEventView>> {
    const rows = await this.events.find({
      where: this.where(filter, decodeCursor(cursor), owner),
      order: { id: 'DESC' },
      take: limit + 1,
    });
    return toPage(rows, limit, (row) => row.id, toView);
  }

  /** Streams every matching event, newest first, in batches. */
  async *export(filter: AuditFilter, owner: string | null = null, batchSize = 500): AsyncGenerator<AuditEventView> {
    let before: string | undefined;
    for (;;) {
      const rows = await this.events.find({ where: this.where(filter, before, owner), order: { id: 'DESC' }, take: batchSize });
      for (const row of rows) yield toView(row);
      if (rows.length < batchSize) return;
      before = rows[rows.length - 1].id;
    }
  }

  private where(filter: AuditFilter, beforeId?: string, owner: string | null = null): FindOptionsWhere<AuditEventEntity> {
    const where: FindOptionsWhere<AuditEventEntity> = {};
    if (owner !== null) where.owner = owner;
    if (filter.action) where.action = filter.action;
    if (filter.realm) where.realm = filter.realm;
    if (filter.clientId) where.clientId = filter.clientId;
    if (filter.actor) where.actorId = filter.actor;
    if (beforeId) where.id = LessThan(beforeId);
    if (filter.since && filter.until) where.at = And(MoreThanOrEqual(filter.since), LessThan(filter.until));
    else if (filter.since) where.at = MoreThanOrEqual(filter.since);
    else if (filter.until) where.at = LessThan(filter.until);
    return where;
  }
}

function scrub(detail: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(detail).filter(([name]) => !SECRET_FIELD.test(name)));
}

function toView(row: AuditEventEntity): AuditEventView {
  const { source, ...detail } = row.detail ?? {};
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: { type: row.actorType, id: row.actorId },
    action: row.action,
    realm: row.realm,
    clientId: row.clientId,
    target: row.target,
    outcome: row.outcome,
    detail,
    requestId: row.requestId,
    source: typeof source === 'string' ? source : null,
    owner: row.owner,
  };
}
