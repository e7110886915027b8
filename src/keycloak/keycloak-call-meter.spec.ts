import { AsyncLocalStorage } from 'node:async_hooks';
import { jest } from '@jest/globals';
import { countKeycloakCall, meterKeycloakCalls } from './keycloak-call-meter.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('meterKeycloakCalls', () => {
  afterEach(() => jest.restoreAllMocks());

  it('counts the calls of its own work only, across awaits, beside other work', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = meterKeycloakCalls(async () => {
      countKeycloakCall();
      await gate;
      countKeycloakCall();
      return 'first';
    });
    const second = meterKeycloakCalls(async () => {
      await tick();
      countKeycloakCall();
      return 'second';
    });
    // A call made outside any metered work is counted by none.
    countKeycloakCall();
    await tick();
    release();
    await expect(first).resolves.toEqual({ result: 'first', calls: 2 });
    await expect(second).resolves.toEqual({ result: 'second', calls: 1 });
  });

  it('switches its storage off once the last metered work ends, and on again for the next', async () => {
    const disable = jest.spyOn(AsyncLocalStorage.prototype, 'disable');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const long = meterKeycloakCalls(async () => {
      await gate;
      countKeycloakCall();
    });
    await meterKeycloakCalls(async () => countKeycloakCall());
    // The long work still runs: the storage stays on, and its calls are still counted.
    expect(disable).not.toHaveBeenCalled();
    release();
    await expect(long).resolves.toEqual({ result: undefined, calls: 1 });
    expect(disable).toHaveBeenCalledTimes(1);

    await expect(meterKeycloakCalls(async () => countKeycloakCall())).resolves.toEqual({ result: undefined, calls: 1 });
    expect(disable).toHaveBeenCalledTimes(2);
  });

  it('switches the storage off when the work fails too', async () => {
    const disable = jest.spyOn(AsyncLocalStorage.prototype, 'disable');
    await expect(meterKeycloakCalls(() => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(disable).toHaveBeenCalledTimes(1);
  });
});
