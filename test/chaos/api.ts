import { tokenFor } from '../support/auth.js';
import { harvest, rememberSecret } from '../support/secret-scan.js';
import { keycloakEnv } from '../support/keycloak-env.js';
import { sleep } from './cluster.js';

/** An answer, or `lost` when none came (connection refused or reset, timeout). */
export interface Answer {
  status: number | 'lost';
  body: Record<string, unknown>;
}

/** A 2xx: Keysmith acknowledged. A 4xx: it refused and did nothing. Anything else: unknown. */
export const acknowledged = (answer: Answer, ...statuses: number[]) => typeof answer.status === 'number' && statuses.includes(answer.status);
export const refused = (answer: Answer) => typeof answer.status === 'number' && answer.status >= 400 && answer.status < 500;

let token: { value: string; until: number } | undefined;

/** A token of the seeded tester (every Keysmith scope), renewed every minute; waits out a paused Keycloak. */
export async function callerToken(): Promise<string> {
  while (!token || Date.now() > token.until) {
    try {
      token = { value: await tokenFor(keycloakEnv().KEYSMITH_TEST_CLIENT_ID), until: Date.now() + 60_000 };
      rememberSecret(token.value);
    } catch {
      await sleep(500);
    }
  }
  return token.value;
}

export async function call(baseUrl: string, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${await callerToken()}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { text };
    }
    // Every secret and key an answer carries, for the e2e suite's closing log scan.
    harvest(parsed);
    return { status: response.status, body: parsed };
  } catch {
    return { status: 'lost', body: {} };
  }
}
