import { jest } from '@jest/globals';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { armShutdownDeadline } from './shutdown-deadline.js';

class StuckScheduler {
  beforeApplicationShutdown(): Promise<void> {
    return new Promise(() => undefined);
  }
}

class QuickFeed {
  stopped = false;
  async beforeApplicationShutdown(signal?: string): Promise<string | undefined> {
    this.stopped = true;
    return signal;
  }
}

function appWith(...instances: object[]): INestApplication {
  const discovery = { getProviders: () => instances.map((instance) => ({ instance, name: instance.constructor.name })) };
  return { get: (token: unknown) => (token === DiscoveryService ? discovery : undefined) } as unknown as INestApplication;
}

describe('armShutdownDeadline', () => {
  const messages: string[] = [];
  const logger: LoggerService = { log: (message: string) => void messages.push(message), error: (message: string) => void messages.push(message), warn: () => undefined };
  let armed: ReturnType<typeof armShutdownDeadline> | undefined;

  beforeEach(() => {
    messages.length = 0;
    jest.useFakeTimers();
  });
  afterEach(() => {
    // A test that did not begin leaves its listeners: remove them by beginning (the exit is a fake).
    armed?.begin('test');
    jest.useRealTimers();
  });

  it('after the timeout, names the hooks still running and exits with 1; settled hooks are not named', async () => {
    const exit = jest.fn();
    const stuck = new StuckScheduler();
    const quick = new QuickFeed();
    armed = armShutdownDeadline(appWith(stuck, quick), { timeoutMs: 2_000, logger, exit });

    armed.begin('SIGTERM');
    void stuck.beforeApplicationShutdown();
    await expect(quick.beforeApplicationShutdown('SIGTERM')).resolves.toBe('SIGTERM');
    expect(quick.stopped).toBe(true);
    expect(armed.pending()).toEqual(['StuckScheduler.beforeApplicationShutdown']);

    jest.advanceTimersByTime(1_999);
    expect(exit).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(exit).toHaveBeenCalledWith(1);
    expect(messages).toEqual([
      'SIGTERM: closing (at most 2 s, KEYSMITH_SHUTDOWN_TIMEOUT_SECONDS)',
      'the close did not finish within 2 s; still waiting for StuckScheduler.beforeApplicationShutdown; exiting',
    ]);
  });

  it('leaves a provider whose hook cannot be replaced (a frozen value) as it is, and times the others', () => {
    const frozen = Object.freeze({ onModuleDestroy: () => undefined });
    const stuck = new StuckScheduler();
    armed = armShutdownDeadline(appWith(frozen, stuck), { timeoutMs: 1_000, logger, exit: jest.fn() });
    void stuck.beforeApplicationShutdown();
    expect(armed.pending()).toEqual(['StuckScheduler.beforeApplicationShutdown']);
  });

  it('arms once: a second signal starts no second timer, and the listeners are gone after the first', () => {
    const exit = jest.fn();
    const before = process.listenerCount('SIGTERM');
    armed = armShutdownDeadline(appWith(new QuickFeed()), { timeoutMs: 1_000, logger, exit });
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);

    armed.begin('SIGINT');
    armed.begin('SIGTERM');
    expect(process.listenerCount('SIGTERM')).toBe(before);
    jest.advanceTimersByTime(1_000);
    expect(exit).toHaveBeenCalledTimes(1);
    expect(messages[1]).toBe('the close did not finish within 1 s; still waiting for the HTTP server or the database to close; exiting');
  });
});
