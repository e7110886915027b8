import { AsyncLocalStorage } from 'node:async_hooks';

const meters = new AsyncLocalStorage<{ calls: number }>();
/** Metered pieces of work running now; the storage is switched off when none is. */
let running = 0;

/** Counts one HTTP request to Keycloak (each attempt, retries included) for the meter in scope, if any. */
export function countKeycloakCall(): void {
  const meter = meters.getStore();
  if (meter) meter.calls += 1;
}

/**
 * Counts the Keycloak requests that one piece of work makes, and only those (other requests of the
 * process running at the same time are not counted): the Keycloak sync reports its cost with it.
 *
 * The storage is on only while metered work runs. On Node.js 20 an AsyncLocalStorage that has run
 * keeps async hooks on until it is disabled, and every promise of the process then pays for them
 * (verification throughput and each Keycloak call of the API); disabling it once the last metered
 * work ends turns them off again. `run` turns it back on.
 */
export async function meterKeycloakCalls<T>(work: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const meter = { calls: 0 };
  running += 1;
  try {
    const result = await meters.run(meter, work);
    return { result, calls: meter.calls };
  } finally {
    running -= 1;
    if (running === 0) meters.disable();
  }
}
