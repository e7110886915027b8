import { AsyncLocalStorage } from 'node:async_hooks';

const meters = new AsyncLocalStorage<{ calls: number }>();

/** Counts one HTTP request to Keycloak (each attempt, retries included) for the meter in scope, if any. */
export function countKeycloakCall(): void {
  const meter = meters.getStore();
  if (meter) meter.calls += 1;
}

/**
 * Counts the Keycloak requests that one piece of work makes, and only those (other requests of the
 * process running at the same time are not counted): the Keycloak sync reports its cost with it.
 */
export async function meterKeycloakCalls<T>(work: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const meter = { calls: 0 };
  const result = await meters.run(meter, work);
  return { result, calls: meter.calls };
}
