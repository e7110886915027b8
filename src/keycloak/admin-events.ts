// Keycloak's admin events as Keysmith follows them: what one event means for managed clients, and
// the cursor that pages through a realm's events in ascending order without missing or repeating one.

/** One admin event, as `GET /admin/realms/{realm}/admin-events` answers it (the fields Keysmith reads). */
export interface AdminEvent {
  id: string;
  /** Keycloak's time of the event, epoch milliseconds. */
  time: number;
  operationType: string;
  resourceType: string;
  resourcePath: string | null;
  /**
   * Made by Keysmith's own client (the event's `authDetails.userId` is the service-account user of
   * KEYCLOAK_CLIENT_ID, the `sub` of Keysmith's own token).
   */
  byKeysmith?: boolean;
}

/** What an event means for Keysmith's accounts. */
export type EventImpact =
  /** One client changed (fields, scopes, deletion); `secret` when its secret was regenerated. */
  | { kind: 'client'; keycloakId: string; secret: boolean }
  /** The role mappings of a user changed: a service-account user is one account. */
  | { kind: 'user'; userId: string }
  /** A client scope was deleted or changed: every account holding it may lose it. */
  | { kind: 'scope' }
  /** A role was deleted or its composites edited: the grants of many accounts may change. */
  | { kind: 'role'; composite: boolean; name?: string }
  | { kind: 'none' };

/**
 * The impact of one admin event, from its resource path (Keycloak's own resource types vary by version).
 *
 * An event Keysmith's own client made has none: Keysmith wrote its database before or with the
 * change (write-ahead: a row being changed is `updating`, a secret being rotated has an unfinished
 * step, and the sync skips both), and every instance shares that database, so re-reading the client
 * would find what the account already says. That holds for another instance's change too, a secret
 * rotation included (its intent is stored before Keycloak is called). It does not hold for a change
 * made outside Keysmith with Keysmith's own credentials, or by a second Keysmith deployment with
 * another database using the same client: those are caught by the safety sweep only (the README's
 * prerequisites give each deployment its own client).
 */
export function impactOf(event: Pick<AdminEvent, 'operationType' | 'resourcePath' | 'byKeysmith'>): EventImpact {
  if (event.byKeysmith) return { kind: 'none' };
  const parts = (event.resourcePath ?? '').split('/').filter(Boolean);
  const [head, id, sub] = parts;
  if (head === 'clients' && id) {
    // A client's own roles: deleting one, or editing its composites, reaches every holder.
    if (sub === 'roles' && parts.length > 3) {
      const name = decodeURIComponent(parts[3]);
      if (parts.includes('composites')) return { kind: 'role', composite: true, name };
      return parts.length === 4 && event.operationType !== 'CREATE' ? { kind: 'role', composite: false, name } : { kind: 'none' };
    }
    if (sub === undefined || ['default-client-scopes', 'optional-client-scopes', 'client-secret', 'protocol-mappers'].includes(sub)) {
      return { kind: 'client', keycloakId: id, secret: sub === 'client-secret' };
    }
    return { kind: 'none' };
  }
  if (head === 'users' && id && sub === 'role-mappings') return { kind: 'user', userId: id };
  if (head === 'client-scopes' && id && event.operationType !== 'CREATE') return { kind: 'scope' };
  if ((head === 'roles' || head === 'roles-by-id') && id) {
    const name = head === 'roles' ? decodeURIComponent(id) : undefined;
    if (parts.includes('composites')) return { kind: 'role', composite: true, ...(name ? { name } : {}) };
    if (parts.length === 2 && event.operationType !== 'CREATE') return { kind: 'role', composite: false, ...(name ? { name } : {}) };
  }
  return { kind: 'none' };
}

/** Where a realm's reading of admin events stands: persisted between polls (and across instances). */
export interface EventCursorState {
  /** Keycloak time of the newest event seen; null before the first poll. */
  time: number | null;
  /** Events already seen inside the overlap window before `time`: they are skipped when read again. */
  recent: { id: string; time: number }[];
  /** When the last poll succeeded, on Keysmith's clock (ms); null before the first. */
  polledAt: number | null;
  /**
   * The last poll stopped at its page limit: the next one reads on from `time` without the overlap
   * (re-reading a window fuller than the limit would never get past it).
   */
  truncated?: boolean;
}

/** Reads one page of events in ascending time order, from `from` (Keycloak time, inclusive). */
export type EventPageReader = (from: number, first: number, max: number) => Promise<AdminEvent[]>;

export interface CursorSettings {
  /** Events are read again this far back on every poll, since a late commit can land behind the cursor. */
  overlapMs: number;
  pageSize: number;
  /** At most this many pages per poll; the rest is read on the next one. */
  maxPages: number;
  /** Keycloak's retention of admin events (ms), when the realm sets one. */
  retentionMs: number | null;
}

export interface CursorRead {
  /** New events, oldest first, each once. */
  events: AdminEvent[];
  next: EventCursorState;
  /**
   * Events may have been missed (purged by retention before they were read, or no cursor yet):
   * the caller sweeps every managed client to catch up.
   */
  gap: boolean;
  /** Calls made. */
  pages: number;
}

/**
 * Pages through the events after the cursor, oldest first, re-reading the overlap window and
 * skipping what was seen there. A gap is reported when the events the cursor remembers are gone
 * (retention purged them, and with them anything newer that was never read), when the time since
 * the last poll exceeds the retention, and on the first poll.
 */
export async function readEvents(state: EventCursorState, read: EventPageReader, now: number, settings: CursorSettings): Promise<CursorRead> {
  const from = state.time === null ? 0 : Math.max(0, state.time - (state.truncated ? 0 : settings.overlapMs));
  const seen = new Map(state.recent.map((event) => [event.id, event.time]));
  const events: AdminEvent[] = [];
  let anchorFound = state.recent.length === 0;
  let pages = 0;
  let truncated = false;
  for (let first = 0; ; first += settings.pageSize) {
    if (pages >= settings.maxPages) {
      truncated = true;
      break;
    }
    const page = await read(from, first, settings.pageSize);
    pages += 1;
    for (const event of page) {
      if (seen.has(event.id)) {
        anchorFound = true;
        continue;
      }
      seen.set(event.id, event.time);
      events.push(event);
    }
    if (page.length < settings.pageSize) break;
  }
  events.sort((a, b) => a.time - b.time);
  const newest = Math.max(state.time ?? 0, ...events.map((event) => event.time));
  const time = state.time === null && events.length === 0 ? null : newest;
  const windowStart = (time ?? 0) - settings.overlapMs;
  const recent = [...seen].filter(([, at]) => at >= windowStart).map(([id, at]) => ({ id, time: at }));
  const tooLate = settings.retentionMs !== null && state.polledAt !== null && now - state.polledAt >= settings.retentionMs - settings.overlapMs;
  const next: EventCursorState = { time, recent, polledAt: now, ...(truncated ? { truncated } : {}) };
  return { events, next, gap: state.polledAt === null || !anchorFound || tooLate, pages };
}

/** The first poll of a realm: the cursor starts at the newest event, and a sweep catches up on what came before. */
export function startCursor(newest: AdminEvent | undefined, now: number): CursorRead {
  return { events: [], next: { time: newest?.time ?? null, recent: newest ? [{ id: newest.id, time: newest.time }] : [], polledAt: now }, gap: true, pages: 1 };
}
