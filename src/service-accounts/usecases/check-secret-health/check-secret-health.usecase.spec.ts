import type { OperationContext } from '../../../common/context/operation-context.js';
import { Clock } from '../../../common/time/clock.js';
import type { ServiceAccountEntity } from '../../entities/service-account.entity.js';
import type { RotationKeycloakPort, RotationVaultPort } from '../rotate-secret/rotation.ports.js';
import { CheckSecretHealthUseCase, type MismatchReporter } from './check-secret-health.usecase.js';
import { Pacer, realSleep } from './pacer.js';

class FakeClock extends Clock {
  at = 0;
  override now(): Date {
    return new Date(this.at);
  }
}

describe('Pacer (secret health check pacing, on the injected clock)', () => {
  const paced = async (rate: number, count: number, spreadMs: number) => {
    const clock = new FakeClock();
    const sleeps: number[] = [];
    const pacer = new Pacer(clock, async (ms) => {
      sleeps.push(ms);
      clock.at += ms;
    }, rate, count, spreadMs);
    const starts: number[] = [];
    for (let i = 0; i < count; i += 1) {
      await pacer.turn();
      starts.push(clock.at);
      clock.at += 40; // the token request itself
    }
    return { starts, sleeps, pacer };
  };

  it('makes at most 2 token requests a second by default', async () => {
    const { starts } = await paced(2, 11, 0);
    const gaps = starts.slice(1).map((at, i) => at - starts[i]);
    expect(Math.min(...gaps)).toBe(500);
    // Any one-second window holds at most 2 requests.
    for (const at of starts) expect(starts.filter((other) => other >= at && other < at + 1000).length).toBeLessThanOrEqual(2);
  });

  it('checks 10,000 accounts in under 2 hours at the default rate', () => {
    const pacer = new Pacer(new FakeClock(), async () => undefined, 2, 10_000, 100 * 60_000);
    expect(pacer.spacingMs * 10_000).toBeLessThan(2 * 60 * 60 * 1000);
  });

  it('a shutdown cuts a long wait short, so a paced run never holds the process', async () => {
    const stopping = new AbortController();
    let woke = false;
    const waiting = realSleep(stopping.signal)(60 * 60_000).then(() => (woke = true));
    stopping.abort();
    await waiting;
    expect(woke).toBe(true);
  });

  it('spreads few accounts over the window instead of bursting', async () => {
    const { starts } = await paced(2, 4, 100 * 60_000);
    expect(starts[3] - starts[0]).toBe(3 * 25 * 60_000);
  });
});

describe('CheckSecretHealthUseCase', () => {
  const row = { id: 'sa_1', realm: 'platform', clientId: 'orders-sync', keycloakId: 'kc-1', secretCiphertext: 'enc:stored' } as ServiceAccountEntity;
  const vault: RotationVaultPort = { encrypt: (s) => `enc:${s}`, decrypt: (c) => c.slice(4) };
  const context = { actor: { type: 'job', id: 'secret-health' } } as OperationContext;
  const keycloakWith = (current: string, accepted: string[]): RotationKeycloakPort => ({
    currentSecret: async () => current,
    rotatedSecret: async () => null,
    regenerate: async () => 'never',
    invalidateRotated: async () => undefined,
    accepts: async (_r, _c, secret) => accepted.includes(secret),
  });

  it('proves the stored secret with a token request and reports nothing when Keycloak accepts it', async () => {
    const reported: unknown[] = [];
    const reporter: MismatchReporter = { mismatch: async (_c, _r, detail) => void reported.push(detail) };
    expect(await new CheckSecretHealthUseCase(keycloakWith('stored', ['stored']), vault, reporter).check(context, row, false)).toBe('ok');
    expect(reported).toEqual([]);
  });

  it('reports a mismatch when Keycloak refuses the stored secret', async () => {
    const reported: unknown[] = [];
    const reporter: MismatchReporter = { mismatch: async (_c, _r, detail) => void reported.push(detail) };
    expect(await new CheckSecretHealthUseCase(keycloakWith('regenerated-elsewhere', ['regenerated-elsewhere']), vault, reporter).check(context, row, true)).toBe('mismatch');
    expect(reported).toEqual([{ storedIsCurrent: false, storedAccepted: false, repair: true }]);
  });

  it('reports a stored secret that still works only as Keycloak\'s rotated one (the executor regenerated it)', async () => {
    const reported: unknown[] = [];
    const reporter: MismatchReporter = { mismatch: async (_c, _r, detail) => void reported.push(detail) };
    expect(await new CheckSecretHealthUseCase(keycloakWith('regenerated-by-executor', ['regenerated-by-executor', 'stored']), vault, reporter).check(context, row, false)).toBe('mismatch');
    expect(reported).toEqual([{ storedIsCurrent: false, storedAccepted: true, repair: false }]);
  });
});
