import type { OperationContext } from '../../../common/context/operation-context.js';
import { DomainError } from '../../../common/errors/domain-error.js';
import { FaultInjectedError, setFaultPoints } from '../../../common/faults/fault-points.js';
import { Clock } from '../../../common/time/clock.js';
import type { ServiceAccountEntity } from '../../entities/service-account.entity.js';
import { ROTATION_FAULT_POINTS } from './rotation.fault-points.js';
import { FakeRotationKeycloak as FakeKeycloak, fakeVault as vault } from '../../testing/rotation-fakes.js';
import type { RotationNotice, RotationNotifierPort, RotationStorePort } from './rotation.ports.js';
import { RotateSecretUseCase, type RotationRun } from './rotate-secret.usecase.js';

const HOUR = 60 * 60 * 1000;

/** The account row as the database holds it: what a restarted process reads back. */
class FakeStore implements RotationStorePort {
  persisted: ServiceAccountEntity;

  constructor(row: ServiceAccountEntity) {
    this.persisted = { ...row };
  }

  async save(row: ServiceAccountEntity, changes: Partial<ServiceAccountEntity>): Promise<void> {
    Object.assign(row, changes);
    Object.assign(this.persisted, changes);
  }

  reload(): ServiceAccountEntity {
    return { ...this.persisted };
  }
}

class FakeNotifier implements RotationNotifierPort {
  notices: RotationNotice['type'][] = [];
  async notify(_context: OperationContext, _row: ServiceAccountEntity, notice: RotationNotice): Promise<void> {
    this.notices.push(notice.type);
  }
}

class FakeClock extends Clock {
  at = Date.parse('2026-01-01T00:00:00Z');
  override now(): Date {
    return new Date(this.at);
  }
}

function account(): ServiceAccountEntity {
  return {
    id: 'sa_1',
    realm: 'platform',
    clientId: 'orders-sync',
    keycloakId: 'kc-1',
    state: 'ready',
    secretCiphertext: vault.encrypt('secret-0', 'sa_1'),
    secretRotationStep: null,
    secretRotationId: null,
    secretRotationGraceHours: null,
    previousSecretValidUntil: null,
    secretRotationFailures: 0,
    secretRotationError: null,
    rotationEveryDays: 90,
    rotationGraceHours: 24,
    lastRotatedAt: null,
    nextRotationAt: null,
  } as unknown as ServiceAccountEntity;
}

describe('RotateSecretUseCase (the secret-rotation state machine)', () => {
  let keycloak: FakeKeycloak;
  let store: FakeStore;
  let notifier: FakeNotifier;
  let clock: FakeClock;
  let machine: RotateSecretUseCase;
  let ids: number;
  const run: RotationRun = { context: { actor: { type: 'job', id: 'secret-rotation' } } as OperationContext, fence: async () => undefined };

  beforeEach(() => {
    keycloak = new FakeKeycloak();
    store = new FakeStore(account());
    notifier = new FakeNotifier();
    clock = new FakeClock();
    ids = 0;
    machine = new RotateSecretUseCase(keycloak, store, vault, notifier, clock, () => `rot_${++ids}`);
    setFaultPoints(undefined);
  });
  afterAll(() => setFaultPoints(undefined));

  const stored = () => vault.decrypt(store.persisted.secretCiphertext!, 'sa_1');

  it('records the intent with a new id before asking Keycloak anything', async () => {
    setFaultPoints('rotate.intent-recorded=throw');
    await expect(machine.start(run, store.reload(), 24)).rejects.toBeInstanceOf(FaultInjectedError);
    expect(store.persisted).toMatchObject({ secretRotationStep: 'intent', secretRotationId: 'rot_1', secretRotationGraceHours: 24 });
    expect(keycloak.writes).toBe(0);
  });

  it('rotates with a grace window: the new secret stored and current, the previous one kept until the window ends', async () => {
    await machine.start(run, store.reload(), 24);
    expect(store.persisted.secretRotationStep).toBe('notified');
    expect(stored()).toBe(keycloak.current);
    expect(keycloak.rotated).toBe('secret-0');
    expect(notifier.notices).toEqual(['rotated']);
    expect(store.persisted.previousSecretValidUntil!.getTime()).toBe(clock.at + 24 * HOUR);

    const row = store.reload();
    await machine.drive(run, row);
    expect(keycloak.rotated).toBe('secret-0');
    clock.at += 25 * HOUR;
    await machine.drive(run, row);
    expect(keycloak.rotated).toBeNull();
    expect(store.persisted).toMatchObject({ secretRotationStep: null, secretRotationId: null, previousSecretValidUntil: null });
    expect(await keycloak.accepts('', '', stored())).toBe(true);
    expect(notifier.notices).toEqual(['rotated', 'previous-invalidated']);
  });

  describe.each([
    ['with a grace window (the job, the API by default)', 24],
    ['with graceHours 0 (the API ending the previous secret at once)', 0],
  ])('a crash at every named step, %s, then a restart', (_label, grace) => {
    it.each(ROTATION_FAULT_POINTS.filter((point) => grace === 0 || point !== 'rotate.previous-invalidated'))('%s', async (point) => {
      setFaultPoints(`${point}=throw`);
      await expect(machine.start(run, store.reload(), grace)).rejects.toBeInstanceOf(FaultInjectedError);
      // At the crash, the stored secret is one Keycloak accepts.
      expect(await keycloak.accepts('', '', stored())).toBe(true);

      setFaultPoints(undefined);
      const restarted = new RotateSecretUseCase(keycloak, store, vault, new FakeNotifier(), clock, () => 'rot_other');
      await restarted.drive(run, store.reload());

      expect(keycloak.regenerations).toBe(1);
      expect(stored()).toBe(keycloak.current);
      expect(stored()).not.toBe('secret-0');
      expect(store.persisted.secretRotationId).toBe(grace === 0 ? null : 'rot_1');
      expect(store.persisted.secretRotationStep).toBe(grace === 0 ? null : 'notified');
      // The previous secret: kept through the grace window, or ended at once.
      expect(await keycloak.accepts('', '', 'secret-0')).toBe(grace !== 0);
    });
  });

  it('never regenerates blindly: after Keycloak regenerated and the process died, recovery stores what Keycloak holds', async () => {
    const row = store.reload();
    await store.save(row, { secretRotationStep: 'intent', secretRotationId: 'rot_x', secretRotationGraceHours: 24 });
    await keycloak.regenerate();
    await machine.drive(run, store.reload());
    expect(keycloak.regenerations).toBe(1);
    expect(stored()).toBe(keycloak.current);
    expect(keycloak.rotated).toBe('secret-0');
    expect(notifier.notices).toEqual(['rotated']);
  });

  it('adopts a secret the executor regenerated by itself instead of regenerating, which would end the stored one', async () => {
    keycloak.executorRegenerates();
    await machine.start(run, store.reload(), 24);
    expect(keycloak.regenerations).toBe(0);
    expect(stored()).toBe(keycloak.current);
    expect(await keycloak.accepts('', '', 'secret-0')).toBe(true);
  });

  it('after the executor regenerated during a grace window, ends nothing the stored secret depends on', async () => {
    await machine.start(run, store.reload(), 24);
    const firstNew = stored();
    keycloak.executorRegenerates(); // firstNew is now Keycloak's rotated secret; secret-0 is gone
    clock.at += 25 * HOUR;
    await machine.drive(run, store.reload());
    expect(stored()).toBe(keycloak.current);
    expect(keycloak.rotated).toBe(firstNew);
    expect(store.persisted.secretRotationStep).toBe('notified');
    expect(notifier.notices).toEqual(['rotated', 'mismatch-adopted', 'rotated']);
  });

  it('Keycloak keeps one rotated secret: a second rotation ends the first one\'s previous secret at once, and says so', async () => {
    await machine.start(run, store.reload(), 24);
    const firstNew = stored();
    await machine.start(run, store.reload(), 24);
    expect(await keycloak.accepts('', '', 'secret-0')).toBe(false);
    expect(await keycloak.accepts('', '', firstNew)).toBe(true);
    expect(notifier.notices).toEqual(['rotated', 'previous-invalidated', 'rotated']);
  });

  it('after two regenerations lost the stored secret, recovery adopts the current one and reports the mismatch', async () => {
    setFaultPoints('rotate.regenerated=throw');
    await expect(machine.start(run, store.reload(), 24)).rejects.toBeInstanceOf(FaultInjectedError);
    setFaultPoints(undefined);
    keycloak.executorRegenerates(); // secret-0 pushed out: Keycloak keeps one rotated secret
    await machine.drive(run, store.reload());
    expect(stored()).toBe(keycloak.current);
    expect(notifier.notices).toEqual(['mismatch-adopted', 'rotated']);
  });

  it('a repair regenerates even when Keycloak holds a secret Keysmith does not store', async () => {
    keycloak.current = 'set-in-the-console';
    keycloak.rotated = null;
    await machine.start(run, store.reload(), 0, { regenerate: true });
    expect(keycloak.regenerations).toBe(1);
    expect(stored()).toBe(keycloak.current);
    expect(stored()).not.toBe('set-in-the-console');
    expect(await keycloak.accepts('', '', 'set-in-the-console')).toBe(false);
  });

  it('fails the proof, and stays resumable, when Keycloak refuses the secret it holds itself', async () => {
    keycloak.accepts = async () => false;
    await expect(machine.start(run, store.reload(), 24)).rejects.toBeInstanceOf(DomainError);
    expect(store.persisted.secretRotationStep).toBe('stored');
    expect(stored()).toBe(keycloak.current);
  });

  it('a lost lease stops the machine before any write, to Keycloak or to the row', async () => {
    const fenced: RotationRun = { ...run, fence: async () => {
        throw new Error('lease lost');
      }, };
    await expect(machine.start(fenced, store.reload(), 24)).rejects.toThrow('lease lost');
    expect(keycloak.writes).toBe(0);
    expect(store.persisted.secretRotationStep).toBeNull();
  });

  it('a lease lost after Keycloak regenerated (a pause past it) stops every later row write and notice', async () => {
    // Another instance took the lease over meanwhile and carries the rotation on; this one must not write what it saw.
    const late: RotationRun = {
      ...run,
      fence: async () => {
        if (keycloak.writes > 0) throw new Error('lease lost');
      },
    };
    await expect(machine.start(late, store.reload(), 24)).rejects.toThrow('lease lost');
    expect(keycloak.writes).toBe(1);
    expect(store.persisted.secretRotationStep).toBe('intent');
    expect(stored()).toBe('secret-0');
    expect(notifier.notices).toEqual([]);
  });
});
