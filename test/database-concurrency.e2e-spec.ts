import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { LeaseStore } from '../src/common/leases/lease.store.js';
import { Clock } from '../src/common/time/clock.js';
import { authenticateSuite } from './support/auth.js';
import { apiHeaders, createAccount, deleteAccount, issueKey, uniqueClientId } from './support/api-keys.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { engineName } from './support/test-database.js';

const REALM = 'platform';

/**
 * The database decides races between instances: two apps on one database (one SQLite file, or
 * one PostgreSQL database with a pool of connections each) compete for the same lease and rotate
 * the same key at the same moment. Exactly one wins each time, whichever engine the run uses.
 */
describe(`Races decided by the database (${engineName()})`, () => {
  let a: TestApp;
  let b: TestApp;
  const account = uniqueClientId('races');

  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp({ dataDir: a.dataDir });
    await authenticateSuite(a);
    await authenticateSuite(b);
    await createAccount(a, REALM, account);
  });

  afterAll(async () => {
    await deleteAccount(a, REALM, account);
    await b.close();
    await a.close();
  });

  it('twenty acquisitions of one free lease from two instances at once: exactly one holder', async () => {
    const name = `job:race-${randomBytes(4).toString('hex')}`;
    const stores = [a, b].map((t) => new LeaseStore(t.app.get(DataSource), new Clock()));
    const tokens = Array.from({ length: 20 }, (_, i) => `token-${i}`);
    const results = await Promise.all(tokens.map((token, i) => stores[i % 2].acquire(name, `holder-${i % 2}`, token, 60_000)));
    const winners = tokens.filter((_, i) => results[i].acquired);
    expect(winners).toHaveLength(1);
    expect((await stores[0].read(name))?.token).toBe(winners[0]);
    expect(await stores[1].renew(name, winners[0], 60_000)).toBe(true);
    expect(await stores[1].renew(name, winners[0] === 'token-0' ? 'token-1' : 'token-0', 60_000)).toBe(false);
    await stores[0].release(name, winners[0]);
    expect(await stores[1].read(name)).toBeUndefined();
  });

  it('one key rotated on two instances at once: one successor, the other rotation refused', async () => {
    const key = (await issueKey(a, REALM, account, { name: 'raced', scopes: ['read:data'] })).json();
    const rotate = (t: TestApp) => t.inject({ method: 'POST', url: `/v1/api-keys/${key.id}/rotate`, headers: apiHeaders(), payload: { graceHours: 1 } });
    const answers = await Promise.all([rotate(a), rotate(b), rotate(a), rotate(b)]);
    for (const answer of answers) if (answer.statusCode === 201) a.secrets.add(answer.json().key);
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([201, 409, 409, 409]);
    for (const refused of answers.filter((answer) => answer.statusCode === 409)) expect(refused.json().code).toBe('API_KEY_NOT_ACTIVE');
    const listed = (await a.inject({ method: 'GET', url: `/v1/realms/${REALM}/service-accounts/${account}/api-keys?limit=50`, headers: apiHeaders() })).json().items;
    expect(listed.filter((item: { rotatedFromId: string | null }) => item.rotatedFromId === key.id)).toHaveLength(1);
  });

  it('logs no secret this suite knows of', () => {
    expectNoSecretInLogs('database-concurrency');
  });
});
