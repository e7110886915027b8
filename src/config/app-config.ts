import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { makeDirectories } from '../common/fs/directories.js';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { validateCronExpression } from 'cron';
import { parseFaultPoints } from '../common/faults/fault-points.js';
import { decodeKey, envSchema, type Env } from './config.schema.js';
import { databaseProblems, databaseSettings, type DatabaseConfig } from './database-config.js';

function isValidCron(expression: string): boolean {
  return validateCronExpression(expression).valid;
}

/** Raised at boot when the environment is invalid; names every bad variable. */
export class ConfigValidationError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`,
    );
    this.name = 'ConfigValidationError';
  }
}

export interface KeycloakConfig {
  url: string;
  adminRealm: string;
  clientId: string;
  clientSecret: string;
  maxConcurrency: number;
  maxRetries: number;
  retryBaseMs: number;
  timeoutMs: number;
}

/** How Keysmith's own API authenticates callers beyond the JWT checks themselves. */
export interface AuthConfig {
  /** The JWT claim naming the owner a caller is confined to. */
  ownerClaim: string;
  /** The scope that lifts the owner boundary. */
  adminScope: string;
  /** Least time between two JWKS fetches triggered by an unknown `kid`. */
  jwksRefreshCooldownSeconds: number;
  /** How long a fetched JWKS is used before it is fetched again on the next request. */
  jwksCacheMaxAgeSeconds: number;
  /**
   * ClientIds whose tokens are accepted although Keysmith does not manage the client (operators'
   * own callers). Tokens of any other unmanaged client are refused.
   */
  trustedCallers: string[];
}

export interface ScaleOutConfig {
  /** Redis (`KEYSMITH_REDIS_URL`), or undefined: limits per process, changes through the database alone. Not enumerable. */
  redisUrl: string | undefined;
  redisTimeoutMs: number;
  /** open: each replica counts a key's rate limit alone while Redis is unreachable; closed: such keys are refused. */
  keyLimitFallback: 'open' | 'closed';
  /** closed: further failing credentials are answered 429 while Redis is unreachable; open: each replica counts alone. */
  failureLimitFallback: 'open' | 'closed';
  changesPollMs: number;
}

export interface ApiKeysConfig {
  prefixes: { live: string; test: string };
  /** The pepper version new keys are hashed with; older versions are still looked up. */
  pepperVersion: number;
  /** Lifetime of a cached verification (at most 5 s: bounds staleness on other instances). */
  cacheTtlMs: number;
  cacheSize: number;
  /** Bytes the in-memory key index may use (0: no index, every lookup goes through the cache and a query). */
  keyIndexMemoryBytes: number;
  /** How often the index reads the keys changed since its last read. */
  keyIndexPollMs: number;
  usageFlushMs: number;
  /** Failed `GET /v1/auth/check` calls allowed per client address and window before 429. */
  authCheckMaxFailures: number;
  authCheckFailureWindowSeconds: number;
  /**
   * `enforce`: a key's scopes are cut to its account's current scopes at verification. `report`:
   * keys keep the scopes they were issued with, and the excess is logged, counted and audited.
   */
  scopeEnforcement: 'enforce' | 'report';
}

/** One successful verification in 100 is access-logged by default. */
export const DEFAULT_VERIFY_SAMPLE_RATE = 0.01;

/**
 * Keysmith's validated, typed configuration. Built once from the environment; secrets are kept
 * in non-enumerable fields so that logging or serialising the object never prints them.
 */
export class AppConfig {
  readonly nodeEnv: Env['NODE_ENV'];
  readonly host: string;
  readonly port: number;
  readonly logLevel: Env['LOG_LEVEL'];
  /**
   * Share of successful verification requests (`POST /v1/api-keys/verify`, `/v1/auth/check`) that
   * get an access-log line; failures always do.
   */
  readonly logVerifySampleRate: number;
  /** Settings that still work but are retired, named with their replacement, for a start-up warning. */
  readonly deprecations: string[];
  /** SQLite (a file) or PostgreSQL (a URL, TLS mode, pool size). */
  readonly database: DatabaseConfig;
  readonly dataDir: string;
  readonly managedRealms: string[];
  readonly keycloak: KeycloakConfig;
  readonly jwt: { realm: string; audience: string; clockToleranceSeconds: number };
  readonly auth: AuthConfig;
  /** Client scopes every service account gets besides its own (`basic`, `roles`, `service_account`). */
  readonly baseClientScopes: string[];
  readonly grantPolicy: { file: string | undefined; denyPatterns: string[] };
  readonly webhooks: { urls: string[]; maxAttempts: number; retryBaseMs: number; timeoutMs: number; secret: string };
  readonly jobs: {
    schedulerEnabled: boolean;
    crons: Record<'key-expiry' | 'secret-rotation' | 'drift' | 'recovery' | 'secret-health', string>;
    leaseSeconds: number;
    expiryWarningDays: number[];
    allowSecretCutover: boolean;
    repairDrift: boolean;
    /** The secret health check: token requests a second at most, spread window, repair by cut-over rotation. */
    secretHealth: { ratePerSecond: number; spreadMs: number; repair: boolean };
  };
  /** The per-account lease: its length (renewed while a change runs) and how long a change waits for it. */
  readonly accountLease: { ttlMs: number; waitMs: number };
  /** How long a close on a signal may take before the process exits anyway. */
  readonly shutdownTimeoutMs: number;
  /**
   * Proxies whose X-Forwarded-For is believed (addresses, CIDRs or proxy-addr names). The client
   * address is the right-most X-Forwarded-For entry that is not one of them; empty: the peer address.
   */
  readonly trustedProxies: string[];
  /** GitOps apply deletes at most this many accounts per run unless forced. */
  readonly gitops: { maxDeletions: number };
  readonly apiKeys: ApiKeysConfig;
  /**
   * Trading API keys for Keycloak tokens: the access-token lifespan set on the Keycloak client of
   * every account with exchange enabled (it bounds how long a revoked key's last token lives).
   */
  readonly tokenExchange: { accessTokenLifespanSeconds: number };
  /** Several replicas: Redis for shared limits and change notifications, and the change feed's poll. */
  readonly scaleOut: ScaleOutConfig;
  /**
   * Following changes made in Keycloak behind Keysmith's back: on/off, the bound (ms) within which
   * they reach keys, the mode, the events' overlap window, the safety sweep interval (0: none) and
   * what happens to the keys of an account whose client was deleted in Keycloak.
   */
  readonly keycloakSync: {
    enabled: boolean;
    boundMs: number;
    mode: 'auto' | 'sweep';
    overlapMs: number;
    safetySweepMs: number;
    orphanedKeys: 'revoke' | 'keep';
  };
  /** Where the master key came from, for the start-up warning. */
  readonly masterKeySource: 'env' | 'generated-file' | 'file';
  declare readonly masterKey: Buffer;

  constructor(env: Env, masterKey: Buffer, masterKeySource: AppConfig['masterKeySource']) {
    this.nodeEnv = env.NODE_ENV;
    this.host = env.HOST;
    this.port = env.PORT;
    this.logLevel = env.LOG_LEVEL;
    this.logVerifySampleRate = env.KEYSMITH_LOG_VERIFY_SAMPLE_RATE ?? (env.KEYSMITH_LOG_VERIFY_REQUESTS ? 1 : DEFAULT_VERIFY_SAMPLE_RATE);
    this.deprecations =
      env.KEYSMITH_LOG_VERIFY_REQUESTS === undefined
        ? []
        : [`KEYSMITH_LOG_VERIFY_REQUESTS is retired: set KEYSMITH_LOG_VERIFY_SAMPLE_RATE (0-1; now ${this.logVerifySampleRate}) instead`];
    this.dataDir = resolve(env.KEYSMITH_DATA_DIR);
    this.database = databaseSettings(env);
    this.managedRealms = env.KEYSMITH_MANAGED_REALMS;
    this.keycloak = keycloakSettings(env);
    this.jwt = {
      realm: env.KEYSMITH_JWT_REALM ?? env.KEYSMITH_MANAGED_REALMS[0],
      audience: env.KEYSMITH_JWT_AUDIENCE,
      clockToleranceSeconds: env.KEYSMITH_JWT_CLOCK_TOLERANCE_SECONDS,
    };
    this.auth = authSettings(env);
    this.baseClientScopes = env.KEYSMITH_BASE_CLIENT_SCOPES;
    this.grantPolicy = { file: env.KEYSMITH_GRANT_POLICY_FILE, denyPatterns: env.KEYSMITH_GRANT_DENY_PATTERNS };
    this.webhooks = webhookSettings(env);
    this.jobs = jobSettings(env);
    this.accountLease = { ttlMs: env.KEYSMITH_ACCOUNT_LEASE_SECONDS * 1000, waitMs: env.KEYSMITH_ACCOUNT_LEASE_WAIT_SECONDS * 1000 };
    this.shutdownTimeoutMs = env.KEYSMITH_SHUTDOWN_TIMEOUT_SECONDS * 1000;
    this.trustedProxies = env.KEYSMITH_TRUSTED_PROXIES;
    this.gitops = { maxDeletions: env.KEYSMITH_GITOPS_MAX_DELETIONS };
    this.apiKeys = apiKeySettings(env);
    this.tokenExchange = { accessTokenLifespanSeconds: env.KEYSMITH_TOKEN_EXCHANGE_LIFESPAN_SECONDS };
    this.scaleOut = scaleOutSettings(env);
    this.keycloakSync = {
      enabled: (env.KEYSMITH_KEYCLOAK_SYNC ?? env.KEYSMITH_SCHEDULER) === 'on',
      boundMs: env.KEYSMITH_KEYCLOAK_SYNC_BOUND_SECONDS * 1000,
      mode: env.KEYSMITH_KEYCLOAK_SYNC_MODE,
      overlapMs: env.KEYSMITH_KEYCLOAK_EVENTS_OVERLAP_SECONDS * 1000,
      safetySweepMs: env.KEYSMITH_KEYCLOAK_SAFETY_SWEEP_MINUTES * 60_000,
      orphanedKeys: env.KEYSMITH_ORPHANED_ACCOUNT_KEYS,
    };
    this.masterKeySource = masterKeySource;
    Object.defineProperty(this, 'masterKey', { value: masterKey, enumerable: false });
  }

  isManagedRealm(realm: string): boolean {
    return this.managedRealms.includes(realm);
  }
}

function keycloakSettings(env: Env): KeycloakConfig {
  const keycloak = {
    url: env.KEYCLOAK_URL.replace(/\/+$/, ''),
    adminRealm: env.KEYCLOAK_ADMIN_REALM,
    clientId: env.KEYCLOAK_CLIENT_ID,
    maxConcurrency: env.KEYCLOAK_MAX_CONCURRENCY,
    maxRetries: env.KEYCLOAK_MAX_RETRIES,
    retryBaseMs: env.KEYCLOAK_RETRY_BASE_MS,
    timeoutMs: env.KEYCLOAK_TIMEOUT_MS,
  } as KeycloakConfig;
  Object.defineProperty(keycloak, 'clientSecret', { value: env.KEYCLOAK_CLIENT_SECRET, enumerable: false });
  return keycloak;
}

function authSettings(env: Env): AppConfig['auth'] {
  return {
    ownerClaim: env.KEYSMITH_OWNER_CLAIM,
    adminScope: env.KEYSMITH_ADMIN_SCOPE,
    jwksRefreshCooldownSeconds: env.KEYSMITH_JWKS_REFRESH_COOLDOWN_SECONDS,
    jwksCacheMaxAgeSeconds: env.KEYSMITH_JWKS_CACHE_MAX_AGE_SECONDS,
    // Outside production the quick start's caller is trusted by default; production names its own.
    trustedCallers: env.KEYSMITH_TRUSTED_CALLERS ?? (env.NODE_ENV === 'production' ? [] : ['keysmith-tester']),
  };
}

function webhookSettings(env: Env): AppConfig['webhooks'] {
  const webhooks = { urls: env.KEYSMITH_WEBHOOK_URLS, maxAttempts: env.KEYSMITH_WEBHOOK_MAX_ATTEMPTS, retryBaseMs: env.KEYSMITH_WEBHOOK_RETRY_BASE_MS, timeoutMs: env.KEYSMITH_WEBHOOK_TIMEOUT_MS } as AppConfig['webhooks'];
  Object.defineProperty(webhooks, 'secret', { value: env.KEYSMITH_WEBHOOK_SECRET ?? '', enumerable: false });
  return webhooks;
}

function jobSettings(env: Env): AppConfig['jobs'] {
  return {
    schedulerEnabled: env.KEYSMITH_SCHEDULER === 'on',
    crons: {
      'key-expiry': env.KEYSMITH_JOB_KEY_EXPIRY_CRON,
      'secret-rotation': env.KEYSMITH_JOB_SECRET_ROTATION_CRON,
      drift: env.KEYSMITH_JOB_DRIFT_CRON,
      recovery: env.KEYSMITH_JOB_RECOVERY_CRON,
      'secret-health': env.KEYSMITH_JOB_SECRET_HEALTH_CRON,
    },
    leaseSeconds: env.KEYSMITH_JOB_LEASE_SECONDS,
    expiryWarningDays: [...new Set(env.KEYSMITH_KEY_EXPIRY_WARNING_DAYS)].sort((a, b) => b - a),
    allowSecretCutover: env.KEYSMITH_SECRET_ROTATION_ALLOW_CUTOVER,
    repairDrift: env.KEYSMITH_DRIFT_REPAIR,
    secretHealth: {
      ratePerSecond: env.KEYSMITH_SECRET_HEALTH_RATE,
      spreadMs: env.KEYSMITH_SECRET_HEALTH_SPREAD_MINUTES * 60_000,
      repair: env.KEYSMITH_SECRET_HEALTH_REPAIR,
    },
  };
}

function scaleOutSettings(env: Env): ScaleOutConfig {
  const settings = {
    redisTimeoutMs: env.KEYSMITH_REDIS_TIMEOUT_MS,
    keyLimitFallback: env.KEYSMITH_REDIS_KEY_LIMIT_FALLBACK,
    failureLimitFallback: env.KEYSMITH_REDIS_FAILURE_LIMIT_FALLBACK,
    changesPollMs: env.KEYSMITH_CHANGES_POLL_MS,
  } as ScaleOutConfig;
  // The URL may carry a password: kept out of enumeration, so it is never printed with the config.
  Object.defineProperty(settings, 'redisUrl', { value: env.KEYSMITH_REDIS_URL, enumerable: false });
  return settings;
}

function apiKeySettings(env: Env): AppConfig['apiKeys'] {
  return {
    prefixes: { live: env.KEYSMITH_API_KEY_PREFIX_LIVE, test: env.KEYSMITH_API_KEY_PREFIX_TEST },
    pepperVersion: env.KEYSMITH_API_KEY_PEPPER_VERSION,
    cacheTtlMs: env.KEYSMITH_API_KEY_CACHE_TTL_MS,
    cacheSize: env.KEYSMITH_API_KEY_CACHE_SIZE,
    keyIndexMemoryBytes: env.KEYSMITH_KEY_INDEX_MEMORY_MB * 1024 * 1024,
    keyIndexPollMs: env.KEYSMITH_KEY_INDEX_POLL_MS,
    usageFlushMs: env.KEYSMITH_API_KEY_USAGE_FLUSH_MS,
    authCheckMaxFailures: env.KEYSMITH_AUTH_CHECK_MAX_FAILURES,
    authCheckFailureWindowSeconds: env.KEYSMITH_AUTH_CHECK_FAILURE_WINDOW_SECONDS,
    scopeEnforcement: env.KEYSMITH_KEY_SCOPE_ENFORCEMENT,
  };
}

/**
 * Parses and validates the environment. Throws one ConfigValidationError naming every bad variable.
 * Without KEYSMITH_MASTER_KEY, and outside production, a master key is generated once into
 * `<data dir>/master.key` (mode 0600).
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): AppConfig {
  // An empty or blank value is no value (a blank one would read as the number 0).
  const input = Object.fromEntries(Object.entries(source).filter(([, value]) => value === undefined || value.trim() !== ''));
  const parsed = envSchema.safeParse(input);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(environment)'),
        // zod 4 leaves the input out of its issues: whether the variable was given is read here.
        message: issue.code === 'invalid_type' && input[String(issue.path[0])] === undefined ? 'is required' : issue.message,
      }));
  if (parsed.success) problems.push(...settingProblems(parsed.data));
  if (problems.length > 0 || !parsed.success) throw new ConfigValidationError(problems);

  const env = parsed.data;
  if (env.KEYSMITH_MASTER_KEY) {
    return new AppConfig(env, decodeKey(env.KEYSMITH_MASTER_KEY)!, 'env');
  }
  const { key, created } = readOrCreateLocalMasterKey(resolve(env.KEYSMITH_DATA_DIR));
  return new AppConfig(env, key, created ? 'generated-file' : 'file');
}

/** What no single variable's schema can see: combinations, and rules for production. */
function settingProblems(env: Env): { variable: string; message: string }[] {
  const problems: { variable: string; message: string }[] = [];
  if (!env.KEYSMITH_MASTER_KEY && (env.NODE_ENV === 'production' || env.KEYSMITH_REQUIRE_MASTER_KEY)) {
    problems.push({
      variable: 'KEYSMITH_MASTER_KEY',
      message: 'is required in production: 32 random bytes, hex or base64 (openssl rand -hex 32)',
    });
  }
  if (env.KEYSMITH_WEBHOOK_URLS.length > 0 && env.KEYSMITH_WEBHOOK_TIMEOUT_MS >= env.KEYSMITH_SHUTDOWN_TIMEOUT_SECONDS * 1000) {
    problems.push({
      variable: 'KEYSMITH_WEBHOOK_TIMEOUT_MS',
      message: `must be below KEYSMITH_SHUTDOWN_TIMEOUT_SECONDS (${env.KEYSMITH_SHUTDOWN_TIMEOUT_SECONDS} s): a shutdown waits for the attempt being sent`,
    });
  }
  if (env.KEYSMITH_WEBHOOK_URLS.length > 0 && !env.KEYSMITH_WEBHOOK_SECRET) {
    problems.push({ variable: 'KEYSMITH_WEBHOOK_SECRET', message: 'is required when KEYSMITH_WEBHOOK_URLS is set: receivers check signatures with it' });
  }
  for (const [variable, cron] of Object.entries(env).filter(([name]) => /^KEYSMITH_JOB_.*_CRON$/.test(name))) {
    if (cron !== 'off' && !isValidCron(String(cron))) problems.push({ variable, message: 'must be a cron expression (5 or 6 fields) or "off"' });
  }
  if (env.KEYSMITH_TRUST_PROXY !== undefined && env.KEYSMITH_TRUST_PROXY !== 'false') {
    problems.push({
      variable: 'KEYSMITH_TRUST_PROXY',
      message:
        'is no longer supported (it believed X-Forwarded-For from anyone): unset it and list your proxies in KEYSMITH_TRUSTED_PROXIES, for example 127.0.0.1/32,10.0.0.0/8',
    });
  }
  if (env.KEYSMITH_FAULT_POINTS !== undefined) {
    if (env.NODE_ENV === 'production') {
      problems.push({ variable: 'KEYSMITH_FAULT_POINTS', message: 'is for fault-injection tests only and is refused in production' });
    } else {
      try {
        parseFaultPoints(env.KEYSMITH_FAULT_POINTS);
      } catch (error) {
        problems.push({ variable: 'KEYSMITH_FAULT_POINTS', message: (error as Error).message.replace(/^KEYSMITH_FAULT_POINTS: /, '') });
      }
    }
  }
  problems.push(...databaseProblems(env));
  for (const realm of env.KEYSMITH_MANAGED_REALMS) {
    if (realm === env.KEYCLOAK_ADMIN_REALM && realm === 'master') {
      problems.push({ variable: 'KEYSMITH_MANAGED_REALMS', message: 'must not include the master realm' });
    }
  }
  return problems;
}

function readOrCreateLocalMasterKey(dataDir: string): { key: Buffer; created: boolean } {
  const file = join(dataDir, 'master.key');
  if (existsSync(file)) {
    const key = decodeKey(readFileSync(file, 'utf8').trim());
    if (key?.length !== 32) {
      throw new ConfigValidationError([{ variable: 'KEYSMITH_MASTER_KEY', message: `${file} does not hold a 32-byte key` }]);
    }
    return { key, created: false };
  }
  makeDirectories(dirname(file));
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { key, created: true };
}
