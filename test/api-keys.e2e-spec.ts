import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ApiKeyVerificationService } from '../src/api-keys/services/api-key-verification.service.js';
import { ApiKeyUsageService } from '../src/api-keys/services/api-key-usage.service.js';
import { keysCreateCommand } from '../src/api-keys/cli/keys-create.command.js';
import { parseArgs } from '../src/common/cli/cli-command.js';
import { setFaultPoints } from '../src/common/faults/fault-points.js';
import { Sql } from '../src/database/sql.js';
import { RevokeKeysOfDeletedAccounts1764300020000 } from '../migrations/1764300020000-RevokeKeysOfDeletedAccounts.js';
import { authenticateSuite } from './support/auth.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { apiHeaders, createAccount, deleteAccount, issueKey, uniqueClientId, verify } from './support/api-keys.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';
import { engineName, onPostgres } from './support/test-database.js';

const REALM = 'platform';
const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;

describe('API keys: issue, read, rotate, revoke, lifecycle', () => {
  let t: TestApp;
  const accounts: string[] = [];
  let account: string;

  const get = (id: string) => t.inject({ method: 'GET', url: `/v1/api-keys/${id}`, headers: apiHeaders() });
  const list = (clientId: string, query = '') =>
    t.inject({ method: 'GET', url: `/v1/realms/${REALM}/service-accounts/${clientId}/api-keys${query}`, headers: apiHeaders() });
  const newAccount = async (base: string, spec: Parameters<typeof createAccount>[3] = {}) => {
    const clientId = uniqueClientId(base);
    await createAccount(t, REALM, clientId, spec);
    accounts.push(clientId);
    return clientId;
  };

  beforeAll(async () => {
    t = await createTestApp();
    await authenticateSuite(t);
    account = await newAccount('keys-main', { defaultScopes: ['read:data'], optionalScopes: ['write:data'] });
  });
  afterAll(async () => {
    for (const clientId of accounts) await deleteAccount(t, REALM, clientId);
    await t.close();
  });

  it('issues a key once, in the documented format, and verifies it', async () => {
    const res = await issueKey(t, REALM, account, { name: 'ci-deployer', scopes: ['read:data'] });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.key).toMatch(/^sk_live_[0-9A-Za-z]{49}$/);
    expect(body).toMatchObject({
      id: expect.stringMatching(/^key_[0-9a-f]{22}$/),
      realm: REALM,
      clientId: account,
      name: 'ci-deployer',
      environment: 'live',
      hint: `sk_live_${body.key.slice(8, 12)}…${body.key.slice(-4)}`,
      scopes: ['read:data'],
      lastUsedAt: null,
      revokedAt: null,
      rotatedFromId: null,
      status: 'active',
    });
    expect(new Date(body.expiresAt).getTime() - new Date(body.createdAt).getTime()).toBe(90 * DAY);

    expect(await verify(t, body.key)).toEqual({
      valid: true,
      keyId: body.id,
      realm: REALM,
      clientId: account,
      owner: 'team-keys',
      scopes: ['read:data'],
      expiresAt: body.expiresAt,
    });

    const read = await get(body.id);
    expect(read.statusCode).toBe(200);
    expect(read.json()).not.toHaveProperty('key');
    expect(read.body).not.toContain(body.key);
    expect(read.json()).toMatchObject({ id: body.id, hint: body.hint, status: 'active' });
  });

  it('issues test keys with the sk_test_ prefix', async () => {
    const res = await issueKey(t, REALM, account, { name: 'sandbox', scopes: [], environment: 'test' });
    expect(res.statusCode).toBe(201);
    expect(res.json().key).toMatch(/^sk_test_[0-9A-Za-z]{49}$/);
    expect((await verify(t, res.json().key)).valid).toBe(true);
  });

  it(`never stores a key in plain text: not in any row (${engineName()}), nor in the SQLite file or its WAL`, async () => {
    const issued = (await issueKey(t, REALM, account, { name: 'plaintext-check', scopes: ['read:data'] })).json();
    expect((await verify(t, issued.key)).valid).toBe(true);
    await t.app.get(ApiKeyUsageService).flushUsage();
    const random = issued.key.slice(8, 51);
    const sql = new Sql(t.app.get(DataSource));
    for (const table of ['api_keys', 'audit_events', 'service_accounts', 'job_runs', 'webhook_deliveries', 'leases']) {
      const dump = JSON.stringify(await sql.rows(`SELECT * FROM "${table}"`));
      expect(dump).not.toContain(random);
    }
    if (!onPostgres()) {
      // The SQLite file and its write-ahead log hold every page ever written, deleted rows included.
      const files = readdirSync(t.dataDir).filter((name) => name.startsWith('keysmith.sqlite'));
      expect(files).toContain('keysmith.sqlite');
      for (const file of files) {
        const bytes = readFileSync(join(t.dataDir, file));
        expect(bytes.includes(Buffer.from(issued.key))).toBe(false);
        expect(bytes.includes(Buffer.from(random))).toBe(false);
      }
    }
    const rows = await sql.rows<{ key_hash: string; pepper_version: number }>('SELECT * FROM api_keys WHERE id = ?', [issued.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].pepper_version).toBe(1);
    expect(JSON.stringify(rows[0])).not.toContain(random);
  });

  it('allows only scopes of the account, naming the extra ones', async () => {
    const res = await issueKey(t, REALM, account, { name: 'greedy', scopes: ['read:data', 'reports:read', 'admin:all'] });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'SCOPE_NOT_ALLOWED', scopes: ['reports:read', 'admin:all'] });
    expect(res.json().detail).toContain('reports:read');
    const optional = await issueKey(t, REALM, account, { name: 'writer', scopes: ['read:data', 'write:data'] });
    expect(optional.statusCode).toBe(201);
  });

  it("defaults ttlDays to the account's policy and refuses more than its maximum", async () => {
    const short = await newAccount('keys-ttl', { apiKeyPolicy: { defaultTtlDays: 7, maxTtlDays: 30 } });
    const byDefault = (await issueKey(t, REALM, short, { name: 'default', scopes: [] })).json();
    expect(new Date(byDefault.expiresAt).getTime() - new Date(byDefault.createdAt).getTime()).toBe(7 * DAY);
    const max = await issueKey(t, REALM, short, { name: 'max', scopes: [], ttlDays: 30 });
    expect(max.statusCode).toBe(201);
    const tooLong = await issueKey(t, REALM, short, { name: 'long', scopes: [], ttlDays: 31 });
    expect(tooLong.statusCode).toBe(422);
    expect(tooLong.json()).toMatchObject({ code: 'TTL_TOO_LONG', maxTtlDays: 30 });
    const overNinety = await issueKey(t, REALM, account, { name: 'long', scopes: [], ttlDays: 91 });
    expect(overNinety.statusCode).toBe(400);
    expect(overNinety.json().errors).toEqual([expect.objectContaining({ field: 'ttlDays' })]);
  });

  it('validates the body and the realm', async () => {
    const unknownField = await issueKey(t, REALM, account, { name: 'x', scopes: [], colour: 'blue' });
    expect(unknownField.statusCode).toBe(400);
    expect(unknownField.json().errors).toEqual([{ field: 'colour', message: 'is not a known field' }]);
    const noName = await issueKey(t, REALM, account, { scopes: [] });
    expect(noName.json().errors).toEqual([{ field: 'name', message: 'is required' }]);
    const realm = await issueKey(t, 'elsewhere', account, { name: 'x', scopes: [] });
    expect(realm.statusCode).toBe(404);
    expect(realm.json().code).toBe('REALM_NOT_MANAGED');
    const missing = await issueKey(t, REALM, 'no-such-account-here', { name: 'x', scopes: [] });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('SERVICE_ACCOUNT_NOT_FOUND');
    const badId = await get('not-a-key-id');
    expect(badId.statusCode).toBe(400);
    const absent = await get('key_0000000000000000000000');
    expect(absent.statusCode).toBe(404);
    expect(absent.json().code).toBe('API_KEY_NOT_FOUND');
  });

  it('keeps several keys active at once and lists them by status, paged', async () => {
    const many = await newAccount('keys-many');
    const issued = [];
    for (const name of ['a', 'b', 'c']) issued.push((await issueKey(t, REALM, many, { name, scopes: ['read:data'] })).json());
    for (const key of issued) expect((await verify(t, key.key)).valid).toBe(true);

    const first = await list(many, '?limit=2');
    expect(first.statusCode).toBe(200);
    expect(first.json().items.map((k: { name: string }) => k.name)).toEqual(['a', 'b']);
    expect(first.json().nextCursor).toEqual(expect.any(String));
    const second = (await list(many, `?limit=2&cursor=${first.json().nextCursor}`)).json();
    expect(second.items.map((k: { name: string }) => k.name)).toEqual(['c']);
    expect(second.nextCursor).toBeNull();
    expect(JSON.stringify(first.json())).not.toContain(issued[0].key);

    await t.inject({ method: 'DELETE', url: `/v1/api-keys/${issued[1].id}`, headers: apiHeaders() });
    expect((await list(many, '?status=active')).json().items.map((k: { name: string }) => k.name)).toEqual(['a', 'c']);
    expect((await list(many, '?status=revoked')).json().items.map((k: { name: string }) => k.name)).toEqual(['b']);
    expect((await list(many, '?status=bogus')).statusCode).toBe(400);
  });

  it('rotates: successor with the same name and scopes, old key works inside the grace window only', async () => {
    const rotating = await newAccount('keys-rotate');
    const old = (await issueKey(t, REALM, rotating, { name: 'deployer', scopes: ['read:data', 'write:data'] })).json();
    expect((await verify(t, old.key)).valid).toBe(true);

    const res = await t.inject({ method: 'POST', url: `/v1/api-keys/${old.id}/rotate`, headers: apiHeaders(), payload: { graceHours: 2 } });
    expect(res.statusCode).toBe(201);
    const successor = res.json();
    t.secrets.add(successor.key);
    expect(successor).toMatchObject({ name: 'deployer', scopes: ['read:data', 'write:data'], rotatedFromId: old.id, status: 'active' });
    expect(successor.key).not.toBe(old.key);

    const oldNow = (await get(old.id)).json();
    expect(oldNow.status).toBe('expiring');
    expect(new Date(oldNow.expiresAt).getTime() - Date.parse(successor.createdAt)).toBeLessThanOrEqual(2 * HOUR);
    expect(new Date(oldNow.expiresAt).getTime() - Date.parse(successor.createdAt)).toBeGreaterThan(2 * HOUR - 60_000);
    expect((await list(rotating, '?status=expiring')).json().items.map((k: { id: string }) => k.id)).toEqual([old.id]);
    expect((await verify(t, old.key)).valid).toBe(true);
    expect((await verify(t, successor.key)).valid).toBe(true);

    const again = await t.inject({ method: 'POST', url: `/v1/api-keys/${old.id}/rotate`, headers: apiHeaders(), payload: {} });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('API_KEY_NOT_ACTIVE');

    t.clock.advance(2 * HOUR + 1000);
    try {
      expect(await verify(t, old.key)).toEqual({ valid: false, code: 'EXPIRED' });
      expect((await get(old.id)).json().status).toBe('expired');
      expect((await verify(t, successor.key)).valid).toBe(true);
    } finally {
      t.clock.reset();
    }
  });

  it('rotates one key once when rotations race: one successor, the others get API_KEY_NOT_ACTIVE', async () => {
    const racing = await newAccount('keys-rotate-race');
    const old = (await issueKey(t, REALM, racing, { name: 'raced', scopes: ['read:data'] })).json();
    const rotate = () => t.inject({ method: 'POST', url: `/v1/api-keys/${old.id}/rotate`, headers: apiHeaders(), payload: { graceHours: 1 } });
    const answers = await Promise.all([rotate(), rotate(), rotate(), rotate()]);

    const won = answers.filter((res) => res.statusCode === 201).map((res) => res.json());
    for (const successor of won) t.secrets.add(successor.key);
    expect(won).toHaveLength(1);
    expect(answers.filter((res) => res.statusCode === 409).map((res) => res.json().code)).toEqual(['API_KEY_NOT_ACTIVE', 'API_KEY_NOT_ACTIVE', 'API_KEY_NOT_ACTIVE']);
    const keys = (await list(racing)).json().items;
    expect(keys.map((k: { id: string }) => k.id).sort()).toEqual([old.id, won[0].id].sort());
    expect((await get(old.id)).json().status).toBe('expiring');
    expect(won[0].rotatedFromId).toBe(old.id);
    expect((await verify(t, won[0].key)).valid).toBe(true);
  });

  it('rotates with graceHours 0: the old key stops at once; the default grace is 24 hours', async () => {
    const rotating = await newAccount('keys-rotate0');
    const old = (await issueKey(t, REALM, rotating, { name: 'now', scopes: [] })).json();
    expect((await verify(t, old.key)).valid).toBe(true);
    const successor = (await t.inject({ method: 'POST', url: `/v1/api-keys/${old.id}/rotate`, headers: apiHeaders(), payload: { graceHours: 0 } })).json();
    t.secrets.add(successor.key);
    expect(await verify(t, old.key)).toEqual({ valid: false, code: 'EXPIRED' });
    expect((await verify(t, successor.key)).valid).toBe(true);

    const other = (await issueKey(t, REALM, rotating, { name: 'default-grace', scopes: [] })).json();
    const next = (await t.inject({ method: 'POST', url: `/v1/api-keys/${other.id}/rotate`, headers: apiHeaders() })).json();
    t.secrets.add(next.key);
    const graceMs = Date.parse((await get(other.id)).json().expiresAt) - Date.parse(next.createdAt);
    expect(graceMs).toBeGreaterThan(24 * HOUR - 60_000);
    expect(graceMs).toBeLessThanOrEqual(24 * HOUR);
  });

  it('revokes at once, even with the verification cached', async () => {
    const issued = (await issueKey(t, REALM, account, { name: 'to-revoke', scopes: [] })).json();
    expect((await verify(t, issued.key)).valid).toBe(true);
    expect((await verify(t, issued.key)).valid).toBe(true);
    const res = await t.inject({ method: 'DELETE', url: `/v1/api-keys/${issued.id}`, headers: apiHeaders() });
    expect(res.statusCode).toBe(204);
    expect(await verify(t, issued.key)).toEqual({ valid: false, code: 'REVOKED' });
    expect((await get(issued.id)).json()).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) });
    expect((await t.inject({ method: 'DELETE', url: `/v1/api-keys/${issued.id}`, headers: apiHeaders() })).statusCode).toBe(204);
    const rotate = await t.inject({ method: 'POST', url: `/v1/api-keys/${issued.id}/rotate`, headers: apiHeaders(), payload: {} });
    expect(rotate.json().code).toBe('API_KEY_NOT_ACTIVE');
  });

  it('expires keys by time, before any job runs', async () => {
    const issued = (await issueKey(t, REALM, account, { name: 'short', scopes: [], ttlDays: 1 })).json();
    expect((await verify(t, issued.key)).valid).toBe(true);
    t.clock.advanceDays(1);
    try {
      expect(await verify(t, issued.key)).toEqual({ valid: false, code: 'EXPIRED' });
      expect((await get(issued.id)).json().status).toBe('expired');
      expect((await list(account, '?status=expired')).json().items.map((k: { id: string }) => k.id)).toContain(issued.id);
    } finally {
      t.clock.reset();
    }
  });

  it('records lastUsedAt and the use count in batches, not per verification', async () => {
    const issued = (await issueKey(t, REALM, account, { name: 'usage', scopes: [] })).json();
    const usage = t.app.get(ApiKeyUsageService);
    await usage.flushUsage();
    for (let i = 0; i < 5; i += 1) expect((await verify(t, issued.key)).valid).toBe(true);
    const before = (await get(issued.id)).json();
    expect(before).toMatchObject({ lastUsedAt: null, useCount: 0 });
    expect(await usage.flushUsage()).toBeGreaterThanOrEqual(1);
    const after = (await get(issued.id)).json();
    expect(after.useCount).toBe(5);
    expect(Date.parse(after.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(issued.createdAt));

    // A later batch adds to the count and moves lastUsedAt on; a key not used in it is left alone.
    const second = (await issueKey(t, REALM, account, { name: 'usage-2', scopes: [] })).json();
    const idle = (await issueKey(t, REALM, account, { name: 'usage-idle', scopes: [] })).json();
    t.clock.advance(60_000);
    try {
      for (let i = 0; i < 2; i += 1) expect((await verify(t, issued.key)).valid).toBe(true);
      for (let i = 0; i < 3; i += 1) expect((await verify(t, second.key)).valid).toBe(true);
      expect(await usage.flushUsage()).toBe(2);
    } finally {
      t.clock.reset();
    }
    const later = (await get(issued.id)).json();
    expect(later.useCount).toBe(7);
    expect(Date.parse(later.lastUsedAt) - Date.parse(after.lastUsedAt)).toBeGreaterThanOrEqual(60_000);
    expect((await get(second.id)).json()).toMatchObject({ useCount: 3 });
    expect((await get(idle.id)).json()).toMatchObject({ useCount: 0, lastUsedAt: null });
  });

  it('writes the time of a last use to the millisecond, and never moves it back', async () => {
    const issued = (await issueKey(t, REALM, account, { name: 'usage-time', scopes: [] })).json();
    const usage = t.app.get(ApiKeyUsageService);
    await usage.flushUsage();
    const at = Date.parse('2031-05-06T07:08:09.123Z');
    // Uses are counted on the key's record (as verification does); a record of its own here.
    const record = { id: issued.id as string };
    usage.record(record, at);
    usage.record(record, at - 5_000);
    expect(await usage.flushUsage()).toBe(1);
    expect((await get(issued.id)).json()).toMatchObject({ useCount: 2, lastUsedAt: '2031-05-06T07:08:09.123Z' });
    // A batch holding only an older use (another instance's, flushed later) counts it and keeps the time.
    usage.record(record, at - 60_000);
    expect(await usage.flushUsage()).toBe(1);
    expect((await get(issued.id)).json()).toMatchObject({ useCount: 3, lastUsedAt: '2031-05-06T07:08:09.123Z' });
    usage.record(record, at + 1);
    await usage.flushUsage();
    expect((await get(issued.id)).json()).toMatchObject({ useCount: 4, lastUsedAt: '2031-05-06T07:08:09.124Z' });
  });

  it('writes the uses of more keys than one statement takes, each to its own row', async () => {
    const first = (await issueKey(t, REALM, account, { name: 'usage-many-1', scopes: [] })).json();
    const last = (await issueKey(t, REALM, account, { name: 'usage-many-2', scopes: [] })).json();
    const usage = t.app.get(ApiKeyUsageService);
    await usage.flushUsage();
    const at = Date.parse('2031-01-02T03:04:05.006Z');
    usage.record({ id: first.id as string }, at);
    // Ids of no stored key fill the batch beyond one statement (1,000 keys); they change nothing.
    for (let i = 0; i < 1_500; i += 1) usage.record({ id: `key_absent_${i}` }, at);
    const lastRecord = { id: last.id as string };
    usage.record(lastRecord, at + 1);
    usage.record(lastRecord, at + 2);
    expect(await usage.flushUsage()).toBe(1_502);
    expect((await get(first.id)).json()).toMatchObject({ useCount: 1, lastUsedAt: '2031-01-02T03:04:05.006Z' });
    expect((await get(last.id)).json()).toMatchObject({ useCount: 2, lastUsedAt: '2031-01-02T03:04:05.008Z' });
  });

  it('fails keys of a disabled account with CLIENT_DISABLED, and accepts them again when enabled', async () => {
    const toggled = await newAccount('keys-toggle');
    const issued = (await issueKey(t, REALM, toggled, { name: 'toggle', scopes: [] })).json();
    expect((await verify(t, issued.key)).valid).toBe(true);
    const patch = (enabled: boolean) =>
      t.inject({ method: 'PATCH', url: `/v1/realms/${REALM}/service-accounts/${toggled}`, headers: apiHeaders(), payload: { enabled } });
    expect((await patch(false)).statusCode).toBe(200);
    expect(await verify(t, issued.key)).toEqual({ valid: false, code: 'CLIENT_DISABLED' });
    expect((await patch(true)).statusCode).toBe(200);
    expect((await verify(t, issued.key)).valid).toBe(true);
  });

  it('revokes every key of a deleted account, audited', async () => {
    const doomed = await newAccount('keys-doomed');
    const a = (await issueKey(t, REALM, doomed, { name: 'a', scopes: [] })).json();
    const b = (await issueKey(t, REALM, doomed, { name: 'b', scopes: [] })).json();
    expect((await verify(t, a.key)).valid).toBe(true);
    const res = await t.inject({ method: 'DELETE', url: `/v1/realms/${REALM}/service-accounts/${doomed}`, headers: apiHeaders() });
    expect(res.statusCode).toBe(204);
    expect(await verify(t, a.key)).toEqual({ valid: false, code: 'REVOKED' });
    expect(await verify(t, b.key)).toEqual({ valid: false, code: 'REVOKED' });
    expect((await get(b.id)).json().status).toBe('revoked');
    const events = (await t.inject({ method: 'GET', url: `/v1/audit-events?action=api_key.revoked&clientId=${doomed}`, headers: apiHeaders() })).json();
    expect(events.items.map((e: { target: string }) => e.target).sort()).toEqual([a.id, b.id].sort());
    // Each event belongs to the deleted account's owner, so that owner's callers can read them.
    expect(events.items.map((e: { owner: string | null }) => e.owner)).toEqual(['team-keys', 'team-keys']);
  });

  it('a delete interrupted after its row is marked deleted leaves no live key: an account made again with the same clientId does not revive the old keys', async () => {
    const reused = await newAccount('keys-reused');
    const old = (await issueKey(t, REALM, reused, { name: 'old', scopes: ['read:data'] })).json();
    expect((await verify(t, old.key)).valid).toBe(true);
    // The crash window: the row is `deleted`, and nothing after that line ran.
    setFaultPoints('delete.row-deleted=throw');
    try {
      const res = await t.inject({ method: 'DELETE', url: `/v1/realms/${REALM}/service-accounts/${reused}`, headers: apiHeaders() });
      expect(res.statusCode).toBe(500);
    } finally {
      setFaultPoints(undefined);
    }
    expect((await get(old.id)).json().status).toBe('revoked');
    // Another team makes an account of the same clientId: the old key gets nothing from it, while
    // a key issued to the new account passes.
    await createAccount(t, REALM, reused, { defaultScopes: ['read:data'] });
    expect(await verify(t, old.key)).toEqual({ valid: false, code: 'REVOKED' });
    const fresh = (await issueKey(t, REALM, reused, { name: 'fresh', scopes: ['read:data'] })).json();
    expect(await verify(t, fresh.key)).toMatchObject({ valid: true, clientId: reused, scopes: ['read:data'] });
  });

  it('a key asked for while its account is being deleted waits for the deletion and is refused: no live key is left behind', async () => {
    const doomed = await newAccount('keys-racing');
    // The deletion holds the account's lease, stalled after its Keycloak client is gone.
    setFaultPoints('delete.client-deleted=pause:1500');
    try {
      const deletion = t.inject({ method: 'DELETE', url: `/v1/realms/${REALM}/service-accounts/${doomed}`, headers: apiHeaders() });
      await new Promise((resolve) => setTimeout(resolve, 400));
      const issued = await issueKey(t, REALM, doomed, { name: 'late', scopes: ['read:data'] });
      expect((await deletion).statusCode).toBe(204);
      expect(issued.statusCode).toBe(404);
      expect(issued.json().code).toBe('SERVICE_ACCOUNT_NOT_FOUND');
    } finally {
      setFaultPoints(undefined);
    }
    const live = await new Sql(t.app.get(DataSource)).rows('SELECT id FROM api_keys WHERE realm = ? AND client_id = ? AND revoked_at IS NULL', [REALM, doomed]);
    expect(live).toEqual([]);
  });

  it('an upgrade revokes the live keys that a delete interrupted in the old order left behind (migration 1764300020000)', async () => {
    const gone = await newAccount('keys-gone');
    const left = (await issueKey(t, REALM, gone, { name: 'left', scopes: ['read:data'] })).json();
    const kept = (await issueKey(t, REALM, account, { name: 'kept', scopes: ['read:data'] })).json();
    expect((await t.inject({ method: 'DELETE', url: `/v1/realms/${REALM}/service-accounts/${gone}`, headers: apiHeaders() })).statusCode).toBe(204);
    // What a delete of the old order left when interrupted: the row deleted, its key still live.
    const db = t.app.get(DataSource);
    const sql = new Sql(db);
    await sql.run('UPDATE api_keys SET revoked_at = NULL WHERE id = ?', [left.id]);
    expect((await get(left.id)).json().status).toBe('active');
    const before = Date.now();

    const runner = db.createQueryRunner();
    try {
      await new RevokeKeysOfDeletedAccounts1764300020000().up(runner);
    } finally {
      await runner.release();
    }
    expect((await get(left.id)).json().status).toBe('revoked');
    expect((await get(kept.id)).json().status).toBe('active');
    // Marked changed, as a revocation is, so the other instances' key indexes drop it.
    const [row] = await sql.rows<{ changed_at: string | number }>('SELECT changed_at FROM api_keys WHERE id = ?', [left.id]);
    expect(Number(row.changed_at)).toBeGreaterThanOrEqual(before);
    // An account made again with the same clientId gives the old key nothing; its own key passes.
    await createAccount(t, REALM, gone, { defaultScopes: ['read:data'] });
    expect(await verify(t, left.key)).toEqual({ valid: false, code: 'REVOKED' });
    const fresh = (await issueKey(t, REALM, gone, { name: 'fresh', scopes: ['read:data'] })).json();
    expect(await verify(t, fresh.key)).toMatchObject({ valid: true, clientId: gone, scopes: ['read:data'] });
  });

  it("hides another owner's keys as if absent", async () => {
    const theirs = await newAccount('keys-theirs', { owner: 'team-other' });
    const issued = (await issueKey(t, REALM, theirs, { name: 'theirs', scopes: [] })).json();
    const { ApiKeysService } = await import('../src/api-keys/services/api-keys.service.js');
    const service = t.app.get(ApiKeysService);
    const mine = { actor: { type: 'api-key' as const, id: 'key_x' }, requestId: null, owner: 'team-keys', source: null, callerScopes: null };
    await expect(service.get(mine, issued.id)).rejects.toMatchObject({ code: 'API_KEY_NOT_FOUND' });
    await expect(service.revoke(mine, issued.id)).rejects.toMatchObject({ code: 'API_KEY_NOT_FOUND' });
    await expect(service.rotate(mine, issued.id, 0)).rejects.toMatchObject({ code: 'API_KEY_NOT_FOUND' });
    await expect(service.list(mine, REALM, theirs, { limit: 10 })).rejects.toMatchObject({ code: 'SERVICE_ACCOUNT_NOT_FOUND' });
    expect((await service.get({ ...mine, owner: 'team-other' }, issued.id)).id).toBe(issued.id);
  });

  it('audits issue, rotation and revocation without the key or its hash', async () => {
    const audited = (await issueKey(t, REALM, account, { name: 'audited', scopes: [] })).json();
    const rotated = (await t.inject({ method: 'POST', url: `/v1/api-keys/${audited.id}/rotate`, headers: apiHeaders(), payload: { graceHours: 0 } })).json();
    t.secrets.add(rotated.key);
    await t.inject({ method: 'DELETE', url: `/v1/api-keys/${rotated.id}`, headers: apiHeaders() });
    const res = await t.inject({ method: 'GET', url: `/v1/audit-events?clientId=${account}&limit=500`, headers: apiHeaders() });
    const actions = res.json().items.filter((e: { target: string }) => [audited.id, rotated.id].includes(e.target)).map((e: { action: string }) => e.action);
    expect(actions.sort()).toEqual(['api_key.issued', 'api_key.revoked', 'api_key.rotated']);
    const rows = await new Sql(t.app.get(DataSource)).rows<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE id IN (?, ?)', [audited.id, rotated.id]);
    for (const secret of [audited.key, rotated.key, ...rows.map((r: { key_hash: string }) => r.key_hash)]) expect(res.body).not.toContain(secret);
  });

  it('issues a key from the CLI command, audited as cli', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await keysCreateCommand.run(
      parseArgs(['--realm', REALM, '--client', account, '--scopes', 'read:data', '--name', 'bootstrap', '--ttl-days', '30', '--json']),
      { out: (line) => out.push(line), err: (line) => err.push(line) },
      async () => t.app,
    );
    expect(code).toBe(0);
    const issued = JSON.parse(out.join('\n'));
    t.secrets.add(issued.key);
    expect(issued).toMatchObject({ name: 'bootstrap', scopes: ['read:data'], status: 'active' });
    expect(Date.parse(issued.expiresAt) - Date.parse(issued.createdAt)).toBe(30 * DAY);
    expect((await verify(t, issued.key)).valid).toBe(true);
    const events = (await t.inject({ method: 'GET', url: `/v1/audit-events?action=api_key.issued&clientId=${account}&limit=500`, headers: apiHeaders() })).json();
    expect(events.items.find((e: { target: string }) => e.target === issued.id).actor.type).toBe('cli');

    const plain: string[] = [];
    expect(await keysCreateCommand.run(parseArgs(['--realm', REALM, '--client', account, '--scopes', 'read:data']), { out: (l) => plain.push(l), err: () => undefined }, async () => t.app)).toBe(0);
    expect(plain).toHaveLength(1);
    expect(plain[0]).toMatch(/^sk_live_[0-9A-Za-z]{49}$/);
    t.secrets.add(plain[0]);
    expect(t.app.get(ApiKeyVerificationService)).toBeDefined();
  });

  it('logs no secret this suite knows of', async () => {
    await t.app.get(ApiKeyUsageService).flushUsage();
    expectNoSecretInLogs('api-keys');
  });
});
