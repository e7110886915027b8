// Shared pieces of the benchmarks: the local Keycloak's variables, starting Keysmith from dist/,
// a token for Keysmith's own API, and printing figures beside their baseline.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname;

export function keycloakEnv() {
  const file = join(root, '.cache/keycloak/keysmith.env');
  return Object.fromEntries(
    readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/**
 * The environment of a benchmarked Keysmith: the local Keycloak's variables, production mode, a
 * throw-away master key, its data on a SQLite file in `dataDir`, warnings only in the log, and no
 * scheduler (no job, nor the start-up catch-up, runs beside a measurement).
 */
export function benchKeysmithEnv(dataDir, extra = {}) {
  return {
    ...keycloakEnv(),
    NODE_ENV: 'production',
    KEYSMITH_MASTER_KEY: 'ab'.repeat(32),
    KEYSMITH_DATA_DIR: dataDir,
    DATABASE_URL: `sqlite:${join(dataDir, 'keysmith.sqlite')}`,
    LOG_LEVEL: 'warn',
    KEYSMITH_SCHEDULER: 'off',
    ...extra,
  };
}

export function ensureKeycloak() {
  execFileSync('bash', [join(root, 'scripts/keycloak.sh'), 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Boots Keysmith from dist/ in this process on a free loopback port, on a fresh SQLite file. */
export async function startKeysmith(extraEnv = {}) {
  const kc = keycloakEnv();
  const dataDir = mkdtempSync(join(tmpdir(), 'keysmith-bench-'));
  Object.assign(process.env, {
    KEYCLOAK_URL: kc.KEYCLOAK_URL,
    KEYCLOAK_ADMIN_REALM: kc.KEYCLOAK_ADMIN_REALM,
    KEYCLOAK_CLIENT_ID: kc.KEYCLOAK_CLIENT_ID,
    KEYCLOAK_CLIENT_SECRET: kc.KEYCLOAK_CLIENT_SECRET,
    KEYSMITH_MANAGED_REALMS: kc.KEYSMITH_MANAGED_REALMS,
    KEYSMITH_JWT_REALM: kc.KEYSMITH_JWT_REALM,
    KEYSMITH_TRUSTED_CALLERS: kc.KEYSMITH_TRUSTED_CALLERS ?? kc.KEYSMITH_TEST_CLIENT_ID,
    KEYSMITH_DATA_DIR: dataDir,
    DATABASE_URL: `sqlite:${join(dataDir, 'keysmith.sqlite')}`,
    LOG_LEVEL: 'warn',
    KEYSMITH_SCHEDULER: 'off',
    ...extraEnv,
  });
  await import('reflect-metadata');
  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await import(join(root, 'dist/app.module.js'));
  const { configureApp, createFastifyAdapter } = await import(join(root, 'dist/app.setup.js'));
  const app = await NestFactory.create(AppModule.register(), createFastifyAdapter(), { logger: ['error'] });
  await configureApp(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: await app.getUrl(), dataDir };
}

/** A JWT for Keysmith's own API from the seeded test client (every Keysmith scope). */
export async function adminToken() {
  const kc = keycloakEnv();
  const res = await fetch(`${kc.KEYCLOAK_URL}/realms/${kc.KEYSMITH_JWT_REALM}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: kc.KEYSMITH_TEST_CLIENT_ID, client_secret: kc.KEYSMITH_TEST_CLIENT_SECRET }),
  });
  return (await res.json()).access_token;
}

export function suffix() {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Prints one figure beside its baseline, as a ratio. */
export function report(name, value, unit, baseline, goal) {
  const ratio = baseline ? value / baseline : NaN;
  const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));
  console.log(
    `${name.padEnd(58)} ${fmt(value).padStart(10)} ${unit.padEnd(6)} baseline ${fmt(baseline).padStart(10)} ${unit.padEnd(6)} ratio ${ratio.toFixed(2)}${goal ? `  (goal ${goal})` : ''}`,
  );
}
