import { DataSource } from 'typeorm';
import { KeyLookup } from '../src/api-keys/services/key-lookup.service.js';
import { Sql } from '../src/database/sql.js';
import { authenticateSuite } from './support/auth.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { apiHeaders, createAccount, deleteAccount, issueKey, uniqueClientId, verify } from './support/api-keys.js';
import { poll } from './support/poll.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

const REALM = 'platform';

/**
 * Two instances on one database: B holds the keys in its in-memory index (no TTL on live keys),
 * so only its read of changed keys can tell it what A did.
 */
describe('API keys: the in-memory key index across instances', () => {
  let a: TestApp;
  let b: TestApp;
  let account: string;

  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp({ dataDir: a.dataDir, env: { KEYSMITH_KEY_INDEX_POLL_MS: '200' } });
    await authenticateSuite(a);
    await authenticateSuite(b);
    account = uniqueClientId('key-index');
    await createAccount(a, REALM, account);
  });
  afterAll(async () => {
    await deleteAccount(a, REALM, account);
    await b.close();
    await a.close();
  });

  it('a key issued on A verifies on B at once; revoked on A, B refuses it soon after', async () => {
    const issued = (await issueKey(a, REALM, account, { name: 'revoked-elsewhere', scopes: ['read:data'] })).json();
    expect(await verify(b, issued.key)).toMatchObject({ valid: true, keyId: issued.id });
    const revoke = await a.inject({ method: 'DELETE', url: `/v1/api-keys/${issued.id}`, headers: apiHeaders() });
    expect(revoke.statusCode).toBe(204);
    expect(await verify(a, issued.key)).toEqual({ valid: false, code: 'REVOKED' });
    expect(await poll(() => verify(b, issued.key), (result) => result.valid === false)).toEqual({ valid: false, code: 'REVOKED' });
  });

  it('a key rotated on A with no grace is refused on B soon after, its successor accepted', async () => {
    const issued = (await issueKey(a, REALM, account, { name: 'rotated-elsewhere', scopes: ['read:data'] })).json();
    expect(await verify(b, issued.key)).toMatchObject({ valid: true });
    const rotate = await a.inject({ method: 'POST', url: `/v1/api-keys/${issued.id}/rotate`, headers: apiHeaders(), payload: { graceHours: 0 } });
    expect(rotate.statusCode).toBe(201);
    a.secrets.add(rotate.json().key);
    expect(await poll(() => verify(b, issued.key), (result) => result.valid === false)).toEqual({ valid: false, code: 'EXPIRED' });
    expect(await verify(b, rotate.json().key)).toMatchObject({ valid: true, keyId: rotate.json().id });
  });

  it("B reads a revocation whose change-feed row was lost though B's clock runs a minute ahead: changes carry the database's time", async () => {
    b.clock.advance(60_000);
    try {
      const issued = (await issueKey(a, REALM, account, { name: 'revoked-skewed', scopes: ['read:data'] })).json();
      expect(await verify(b, issued.key)).toMatchObject({ valid: true, keyId: issued.id });
      // A read of changes on B since its clock moved: the next one starts from there.
      await b.app.get(KeyLookup).pollChanges();
      // The revocation as the services write it (changed_at on the database's clock), with no
      // change-feed row (lost: the feed would otherwise tell B on its own), so only B's read of
      // changed keys can find it.
      const sql = new Sql(a.app.get(DataSource));
      await sql.run(`UPDATE "api_keys" SET "revoked_at" = ?, "changed_at" = ${sql.epochMs} WHERE "id" = ?`, [sql.time(new Date()), issued.id]);
      expect(await poll(() => verify(b, issued.key), (result) => result.valid === false)).toEqual({ valid: false, code: 'REVOKED' });
    } finally {
      b.clock.reset();
    }
  });

  it('an instance started after keys exist loads them and verifies them from memory', async () => {
    const issued = (await issueKey(a, REALM, account, { name: 'loaded', scopes: ['read:data'] })).json();
    const c = await createTestApp({ dataDir: a.dataDir });
    try {
      await authenticateSuite(c);
      await c.app.get(KeyLookup).loaded;
      expect(await verify(c, issued.key)).toMatchObject({ valid: true, keyId: issued.id });
      const metrics = (await c.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/keysmith_api_key_verifications_total\{result="valid",cache="hit"\} [1-9]/);
      expect(metrics).not.toMatch(/keysmith_api_key_verifications_total\{result="valid",cache="miss"\}/);
    } finally {
      await c.close();
    }
  });

  it('logs no secret this suite knows of', () => {
    expectNoSecretInLogs('api-keys-index');
  });
});
