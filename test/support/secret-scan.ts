import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LogCapture } from './log-capture.js';

/**
 * The secrets an e2e test file saw and the Keysmith logs it captured, gathered in one place so a
 * single check can prove that no secret, key, token or master key reached a log line.
 *
 * Secrets are harvested as they pass: test/support/http.ts hands every request's credential
 * headers and every request and response body to `harvest`, the Keycloak helpers add the tokens
 * and client secrets they fetch, and createTestApp adds the seeded secrets and the master key.
 * Jest loads this module once per test file, so the sets are per suite.
 */
const secrets = new Set<string>();
const captures = new Set<LogCapture>();

/** JSON fields that hold a credential in Keysmith's and Keycloak's requests and answers. */
const SECRET_FIELDS = new Set(['key', 'clientSecret', 'client_secret', 'access_token', 'refresh_token', 'id_token', 'token', 'secret', 'apiKey']);
/** Shorter strings could appear in a log by chance (and every real secret is longer). */
const MIN_LENGTH = 12;

export function suiteSecrets(): Set<string> {
  return secrets;
}

export function rememberSecret(...values: unknown[]): void {
  for (const value of values) if (typeof value === 'string' && value.length >= MIN_LENGTH) secrets.add(value);
}

export function registerLogCapture(capture: LogCapture): void {
  captures.add(capture);
}

/** Collects every credential field of a JSON value (a body as an object or as JSON text). */
export function harvest(value: unknown, depth = 0): void {
  if (typeof value === 'string') {
    if (depth === 0 && /^\s*[[{]/.test(value)) {
      try {
        harvest(JSON.parse(value), depth + 1);
      } catch {
        // not JSON: NDJSON exports and form bodies carry no credential fields of their own
      }
    }
    return;
  }
  if (!value || typeof value !== 'object' || depth > 20) return;
  for (const [name, item] of Object.entries(value)) {
    if (SECRET_FIELDS.has(name)) rememberSecret(item);
    harvest(item, depth + 1);
  }
}

/** Collects the credential of `Authorization: Bearer ...` and `X-API-Key` headers. */
export function harvestHeaders(headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'x-api-key') rememberSecret(value);
    if (lower === 'authorization') rememberSecret(value.replace(/^\s*\S+\s+/, ''));
  }
}

export interface SecretScan {
  logLines: number;
  secrets: number;
  found: string[];
}

/** Every log line captured in this test file, from all its apps. */
export function allLogLines(): string[] {
  return [...captures].flatMap((capture) => capture.lines);
}

/** Every JSON log record captured in this test file, parsed. */
export function allLogRecords(): Record<string, unknown>[] {
  return [...captures].flatMap((capture) => capture.records());
}

/** Scans every captured log line of this test file for every secret it saw. */
export function scanLogsForSecrets(): SecretScan {
  const lines = allLogLines();
  const text = lines.join('\n');
  const found = [...secrets].filter((secret) => secret.length >= 8 && text.includes(secret)).map((secret) => `${secret.slice(0, 6)}… (${secret.length} characters)`);
  return { logLines: lines.length, secrets: secrets.size, found };
}

/**
 * The closing check of an e2e suite: no secret the suite saw is in any Keysmith log line it
 * captured. The figure goes to test-results/secret-scan.jsonl for the test command's summary.
 */
export function expectNoSecretInLogs(suite: string): SecretScan {
  const scan = scanLogsForSecrets();
  const dir = join(process.cwd(), 'test-results');
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'secret-scan.jsonl'), `${JSON.stringify({ suite, logLines: scan.logLines, secrets: scan.secrets, found: scan.found.length })}\n`);
  expect(scan.logLines).toBeGreaterThan(0);
  expect(scan.secrets).toBeGreaterThan(0);
  expect(scan.found).toEqual([]);
  return scan;
}
