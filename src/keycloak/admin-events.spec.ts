import { impactOf, readEvents, startCursor, type AdminEvent, type CursorSettings, type EventCursorState } from './admin-events.js';

/** A realm's admin-event store as Keycloak pages it: ascending by time, `dateFrom` inclusive, offsets into the filtered list. */
class FakeEventStore {
  events: AdminEvent[] = [];
  calls: { from: number; first: number; max: number }[] = [];
  private next = 0;

  add(time: number, path = `clients/c${this.next}`): AdminEvent {
    const event = { id: `e${this.next++}`, time, operationType: 'UPDATE', resourceType: 'CLIENT', resourcePath: path };
    this.events.push(event);
    return event;
  }

  purgeBefore(time: number): void {
    this.events = this.events.filter((event) => event.time >= time);
  }

  read = async (from: number, first: number, max: number): Promise<AdminEvent[]> => {
    this.calls.push({ from, first, max });
    return [...this.events].filter((event) => event.time >= from).sort((a, b) => a.time - b.time).slice(first, first + max);
  };
}

/** The injected clock of these tests: Keysmith's time, moved by hand. */
class ManualClock {
  constructor(public ms: number) {}
  advance(ms: number): number {
    this.ms += ms;
    return this.ms;
  }
}

const settings: CursorSettings = { overlapMs: 10_000, pageSize: 3, maxPages: 10, retentionMs: null };

describe('admin-event cursor', () => {
  let store: FakeEventStore;
  let clock: ManualClock;
  let state: EventCursorState;

  beforeEach(() => {
    store = new FakeEventStore();
    clock = new ManualClock(1_000_000);
    store.add(900_000);
    state = startCursor(store.events[0], clock.ms).next;
  });

  it('starts at the newest event and asks for a sweep to catch up on what came before', () => {
    const first = startCursor(store.events[0], clock.ms);
    expect(first.gap).toBe(true);
    expect(first.next).toEqual({ time: 900_000, recent: [{ id: 'e0', time: 900_000 }], polledAt: 1_000_000 });
    expect(startCursor(undefined, clock.ms).next.time).toBeNull();
  });

  it('pages through new events oldest first, each once, reading the overlap window again', async () => {
    for (let i = 1; i <= 7; i += 1) store.add(900_000 + i * 1_000);
    const read = await readEvents(state, store.read, clock.advance(5_000), settings);
    expect(read.events.map((event) => event.id)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7']);
    expect(read.gap).toBe(false);
    expect(read.pages).toBe(3);
    expect(store.calls.map((call) => [call.from, call.first])).toEqual([[890_000, 0], [890_000, 3], [890_000, 6]]);
    expect(read.next.time).toBe(907_000);
    // Everything inside the overlap window before the new cursor is remembered, so it is skipped next time.
    expect(read.next.recent.map((event) => event.id).sort()).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7']);

    const again = await readEvents(read.next, store.read, clock.advance(5_000), settings);
    expect(again.events).toEqual([]);
    expect(again.gap).toBe(false);
  });

  it('catches an event committed late with a time behind the cursor, inside the overlap window', async () => {
    store.add(905_000);
    const read = await readEvents(state, store.read, clock.advance(1_000), settings);
    expect(read.events.map((event) => event.id)).toEqual(['e1']);
    const late = store.add(902_000);
    const next = await readEvents(read.next, store.read, clock.advance(1_000), settings);
    expect(next.events).toEqual([late]);
  });

  it('keeps events with the same time apart by id', async () => {
    const twins = [store.add(901_000), store.add(901_000), store.add(901_000), store.add(901_000)];
    const read = await readEvents(state, store.read, clock.advance(1_000), settings);
    expect(read.events.map((event) => event.id).sort()).toEqual(twins.map((event) => event.id).sort());
    store.add(901_000);
    const next = await readEvents(read.next, store.read, clock.advance(1_000), settings);
    expect(next.events.map((event) => event.id)).toEqual(['e5']);
  });

  it('stops after maxPages and continues from there on the next poll, missing nothing', async () => {
    for (let i = 1; i <= 10; i += 1) store.add(900_000 + i * 100);
    const limited = { ...settings, maxPages: 2 };
    const first = await readEvents(state, store.read, clock.advance(1_000), limited);
    expect(first.events.map((event) => event.id)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    const second = await readEvents(first.next, store.read, clock.advance(1_000), limited);
    const third = await readEvents(second.next, store.read, clock.advance(1_000), limited);
    const seen = [...first.events, ...second.events, ...third.events].map((event) => event.id);
    expect(seen.sort()).toEqual(['e1', 'e10', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9']);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('reports a gap when retention purged the events the cursor stood on (and with them unread ones)', async () => {
    store.add(901_000);
    const read = await readEvents(state, store.read, clock.advance(1_000), settings);
    store.add(950_000); // never read before the purge
    store.add(960_000);
    store.purgeBefore(955_000);
    const afterPurge = await readEvents(read.next, store.read, clock.advance(1_000), settings);
    expect(afterPurge.gap).toBe(true);
    expect(afterPurge.events.map((event) => event.id)).toEqual(['e3']);
  });

  it('reports a gap when the last poll is older than the realm\'s retention, even with nothing purged yet', async () => {
    const withRetention = { ...settings, retentionMs: 60_000 };
    const soon = await readEvents(state, store.read, clock.advance(30_000), withRetention);
    expect(soon.gap).toBe(false);
    const late = await readEvents(soon.next, store.read, clock.advance(55_000), withRetention);
    expect(late.gap).toBe(true);
  });
});

describe('what an admin event means', () => {
  const event = (operationType: string, resourcePath: string) => ({ operationType, resourcePath });

  it('names the client, its scopes and its secret', () => {
    expect(impactOf(event('UPDATE', 'clients/abc'))).toEqual({ kind: 'client', keycloakId: 'abc', secret: false });
    expect(impactOf(event('DELETE', 'clients/abc'))).toEqual({ kind: 'client', keycloakId: 'abc', secret: false });
    expect(impactOf(event('DELETE', 'clients/abc/default-client-scopes/s1'))).toEqual({ kind: 'client', keycloakId: 'abc', secret: false });
    expect(impactOf(event('ACTION', 'clients/abc/client-secret'))).toEqual({ kind: 'client', keycloakId: 'abc', secret: true });
  });

  it('names the user whose role mappings changed (a service-account user is one account)', () => {
    expect(impactOf(event('DELETE', 'users/u1/role-mappings/realm'))).toEqual({ kind: 'user', userId: 'u1' });
    expect(impactOf(event('CREATE', 'users/u1/role-mappings/clients/c9'))).toEqual({ kind: 'user', userId: 'u1' });
    expect(impactOf(event('UPDATE', 'users/u1'))).toEqual({ kind: 'none' });
  });

  it('sees realm-wide changes: a deleted scope, a deleted role, a composite edit', () => {
    expect(impactOf(event('DELETE', 'client-scopes/s1'))).toEqual({ kind: 'scope' });
    expect(impactOf(event('CREATE', 'client-scopes/s1'))).toEqual({ kind: 'none' });
    expect(impactOf(event('DELETE', 'roles/orders-reader'))).toEqual({ kind: 'role', composite: false, name: 'orders-reader' });
    expect(impactOf(event('DELETE', 'roles-by-id/r1'))).toEqual({ kind: 'role', composite: false });
    expect(impactOf(event('CREATE', 'roles/ops/composites'))).toEqual({ kind: 'role', composite: true, name: 'ops' });
    expect(impactOf(event('CREATE', 'roles-by-id/r1/composites'))).toEqual({ kind: 'role', composite: true });
    expect(impactOf(event('DELETE', 'clients/c1/roles/read'))).toEqual({ kind: 'role', composite: false, name: 'read' });
    expect(impactOf(event('CREATE', 'clients/c1/roles/read'))).toEqual({ kind: 'none' });
    expect(impactOf(event('CREATE', 'roles/new-role'))).toEqual({ kind: 'none' });
  });

  it("ignores Keysmith's own changes (already in its database), of clients, users, scopes and roles alike", () => {
    const own = (operationType: string, resourcePath: string) => ({ ...event(operationType, resourcePath), byKeysmith: true });
    for (const [operation, path] of [
      ['UPDATE', 'clients/abc'],
      ['ACTION', 'clients/abc/client-secret'],
      ['DELETE', 'clients/abc'],
      ['CREATE', 'users/u1/role-mappings/realm'],
      ['DELETE', 'client-scopes/s1'],
      ['CREATE', 'roles/ops/composites'],
    ]) {
      expect(impactOf(own(operation, path))).toEqual({ kind: 'none' });
      // The same change by anyone else is followed.
      expect(impactOf({ ...own(operation, path), byKeysmith: false })).not.toEqual({ kind: 'none' });
    }
  });
});
