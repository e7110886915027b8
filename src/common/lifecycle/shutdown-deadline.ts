import type { INestApplication, LoggerService } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';

/** The lifecycle hooks a close runs, in Nest's order. */
const HOOKS = ['onModuleDestroy', 'beforeApplicationShutdown', 'onApplicationShutdown'] as const;
const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

export interface ShutdownDeadlineOptions {
  timeoutMs: number;
  logger: LoggerService;
  /** Ends the process; `process.exit` outside tests. */
  exit?: (code: number) => void;
}

/**
 * Bounds a graceful shutdown. `enableShutdownHooks` closes the app on SIGTERM or SIGINT and waits
 * for every lifecycle hook (the job scheduler waits for its runs, the usage writer for its last
 * write); a hook that never settles would keep the process alive, half closed, until an
 * orchestrator kills it. From the first signal on, this gives the close `timeoutMs`, then logs
 * the hooks still running (`JobsService.beforeApplicationShutdown`) and exits with 1. That exit is
 * a crash like any other: leases expire, write-ahead records are completed by the next run.
 *
 * Returns the handle a test uses to act as if a signal had come.
 */
export function armShutdownDeadline(app: INestApplication, options: ShutdownDeadlineOptions): { begin: (signal: string) => void; pending: () => string[] } {
  const running = new Map<number, string>();
  let next = 0;
  for (const wrapper of app.get(DiscoveryService).getProviders()) {
    const instance = wrapper.instance as Record<string, unknown> | undefined;
    if (!instance || typeof instance !== 'object') continue;
    for (const hook of HOOKS) {
      const original = instance[hook];
      if (typeof original !== 'function') continue;
      const label = `${instance.constructor?.name ?? wrapper.name}.${hook}`;
      // Reflect.set, not an assignment: a provider whose hook cannot be replaced (a frozen value)
      // is left as it is, untimed, instead of failing the start.
      Reflect.set(instance, hook, async (...args: unknown[]) => {
        const id = next++;
        running.set(id, label);
        try {
          return await (original as (...a: unknown[]) => unknown).apply(instance, args);
        } finally {
          running.delete(id);
        }
      });
    }
  }
  const pending = () => [...new Set(running.values())];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let begun = false;
  const begin = (signal: string) => {
    if (begun) return;
    begun = true;
    for (const other of SIGNALS) process.removeListener(other, begin);
    options.logger.log(`${signal}: closing (at most ${options.timeoutMs / 1000} s, KEYSMITH_SHUTDOWN_TIMEOUT_SECONDS)`);
    setTimeout(() => {
      const waiting = pending();
      options.logger.error(
        `the close did not finish within ${options.timeoutMs / 1000} s; still waiting for ${waiting.length ? waiting.join(', ') : 'the HTTP server or the database to close'}; exiting`,
      );
      exit(1);
    }, options.timeoutMs).unref();
  };
  for (const signal of SIGNALS) process.once(signal, begin);
  return { begin, pending };
}
