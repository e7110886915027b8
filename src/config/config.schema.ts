import { isIP } from 'node:net';
import { z } from 'zod';
import { wholeNumber } from '../common/http/text.js';
import { databaseEnvShape } from './database-config.js';

const csv = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

// The names proxy-addr (Fastify's address resolution) knows besides addresses and CIDRs.
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An IPv4 or IPv6 address, optionally with a prefix length (`10.0.0.0/8`, `::1/128`), or a proxy-addr range name. */
export function isProxyRange(value: string): boolean {
  if (PROXY_RANGE_NAMES.has(value)) return true;
  const [address, prefix, ...rest] = value.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  // A prefix of 0 trusts every address: any caller could then name its own in X-Forwarded-For.
  return /^\d{1,3}$/.test(prefix) && Number(prefix) >= 1 && Number(prefix) <= (family === 4 ? 32 : 128);
}


// A key prefix is matched by secret scanners: lower-case letters, digits and '_', ending with '_'.
const keyPrefix = z.string().regex(/^[a-z][a-z0-9_]{1,14}_$/, 'must be 3 to 16 characters of a-z, 0-9 and _, starting with a letter and ending with _');

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => ['true', '1', 'yes'].includes(value));

/**
 * Every environment variable Keysmith reads, with its default. Parsed once at boot by `loadConfig`.
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: wholeNumber(0, 65535).default(8080),
  /** Retired: `true` still means "log every verification" (a sample rate of 1); `false` means the default rate. */
  KEYSMITH_LOG_VERIFY_REQUESTS: bool.optional(),
  KEYSMITH_LOG_VERIFY_SAMPLE_RATE: z.coerce.number({ error: 'must be a number between 0 and 1' }).min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ...databaseEnvShape,
  KEYSMITH_DATA_DIR: z.string().min(1).default('./data'),
  KEYSMITH_MASTER_KEY: z
    .string()
    .refine((value) => decodeKey(value)?.length === 32, 'must be 32 bytes as 64 hex characters or base64')
    .optional(),
  KEYSMITH_MANAGED_REALMS: csv.pipe(
    z.array(z.string().regex(/^[A-Za-z0-9._-]+$/, 'realm names may use letters, digits, . _ -')).min(1, 'name at least one realm'),
  ).default(['platform']),
  KEYCLOAK_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8180'),
  KEYCLOAK_ADMIN_REALM: z.string().min(1).default('master'),
  KEYCLOAK_CLIENT_ID: z.string().min(1).default('keysmith-admin'),
  KEYCLOAK_CLIENT_SECRET: z.string().min(1, 'must be set: the secret of Keysmith\'s own confidential client'),
  KEYCLOAK_MAX_CONCURRENCY: wholeNumber(1, 64).default(4),
  KEYCLOAK_MAX_RETRIES: wholeNumber(0, 10).default(3),
  KEYCLOAK_RETRY_BASE_MS: wholeNumber(1, 10_000).default(200),
  KEYCLOAK_TIMEOUT_MS: wholeNumber(100, 120_000).default(10_000),
  KEYSMITH_JWT_REALM: z.string().min(1).optional(),
  KEYSMITH_JWT_AUDIENCE: z.string().min(1).default('keysmith'),
  KEYSMITH_JWT_CLOCK_TOLERANCE_SECONDS: wholeNumber(0, 300).default(30),
  KEYSMITH_JWKS_REFRESH_COOLDOWN_SECONDS: wholeNumber(1, 3600).default(30),
  KEYSMITH_JWKS_CACHE_MAX_AGE_SECONDS: wholeNumber(10, 86_400).default(600),
  KEYSMITH_OWNER_CLAIM: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$/, 'must be a JWT claim name').default('keysmith_owner'),
  KEYSMITH_ADMIN_SCOPE: z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/, 'must be one OAuth scope token (no spaces)').default('keysmith:admin'),
  KEYSMITH_TRUSTED_CALLERS: csv.pipe(z.array(z.string().regex(/^[\x21-\x7E]{1,255}$/, 'must be clientIds without spaces'))).optional(),
  KEYSMITH_KEY_SCOPE_ENFORCEMENT: z.enum(['enforce', 'report']).default('enforce'),
  KEYSMITH_REQUIRE_MASTER_KEY: bool.default(false),
  KEYSMITH_BASE_CLIENT_SCOPES: csv.default(['basic', 'roles', 'service_account']),
  KEYSMITH_GRANT_POLICY_FILE: z.string().min(1).optional(),
  KEYSMITH_GRANT_DENY_PATTERNS: csv.default([]),
  // One delivery per receiver: a URL listed twice is sent to once.
  KEYSMITH_WEBHOOK_URLS: csv
    .pipe(z.array(z.url({ protocol: /^https?$/ })))
    .transform((urls) => [...new Set(urls)])
    .default([]),
  KEYSMITH_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  KEYSMITH_WEBHOOK_MAX_ATTEMPTS: wholeNumber(1, 10).default(4),
  KEYSMITH_WEBHOOK_RETRY_BASE_MS: wholeNumber(1, 60_000).default(500),
  KEYSMITH_WEBHOOK_TIMEOUT_MS: wholeNumber(100, 60_000).default(5_000),
  KEYSMITH_SCHEDULER: z.enum(['on', 'off']).default('on'),
  KEYSMITH_JOB_KEY_EXPIRY_CRON: z.string().min(1).default('0 * * * *'),
  KEYSMITH_JOB_SECRET_ROTATION_CRON: z.string().min(1).default('30 2 * * *'),
  KEYSMITH_JOB_DRIFT_CRON: z.string().min(1).default('15 */6 * * *'),
  KEYSMITH_JOB_RECOVERY_CRON: z.string().min(1).default('* * * * *'),
  KEYSMITH_JOB_SECRET_HEALTH_CRON: z.string().min(1).default('0 */2 * * *'),
  KEYSMITH_JOB_LEASE_SECONDS: wholeNumber(5, 3600).default(60),
  KEYSMITH_ACCOUNT_LEASE_SECONDS: wholeNumber(2, 3600).default(30),
  KEYSMITH_ACCOUNT_LEASE_WAIT_SECONDS: wholeNumber(0, 3600).default(30),
  /** How long a close on SIGTERM or SIGINT may take before the process exits anyway (see armShutdownDeadline). */
  KEYSMITH_SHUTDOWN_TIMEOUT_SECONDS: wholeNumber(1, 3600).default(25),
  KEYSMITH_KEY_EXPIRY_WARNING_DAYS: csv.pipe(z.array(z.string().regex(/^\d+$/, 'must be whole days').transform(Number))).default([14, 7, 1]),
  KEYSMITH_SECRET_ROTATION_ALLOW_CUTOVER: bool.default(false),
  KEYSMITH_DRIFT_REPAIR: bool.default(false),
  /** Token requests a second the secret health check makes at most (10,000 accounts in 84 minutes at 2). */
  KEYSMITH_SECRET_HEALTH_RATE: z.coerce
    .number({ error: 'must be a number above 0, at most 100' })
    .positive('must be a number above 0, at most 100')
    .max(100, 'must be a number above 0, at most 100')
    .default(2),
  /** Spread one run's checks over this many minutes (fewer accounts, wider spacing); 0: only the rate limits. */
  KEYSMITH_SECRET_HEALTH_SPREAD_MINUTES: wholeNumber(0, 24 * 60).default(100),
  KEYSMITH_SECRET_HEALTH_REPAIR: bool.default(false),
  KEYSMITH_GITOPS_MAX_DELETIONS: wholeNumber(0, 10_000).default(10),
  KEYSMITH_API_KEY_PREFIX_LIVE: keyPrefix.default('sk_live_'),
  KEYSMITH_API_KEY_PREFIX_TEST: keyPrefix.default('sk_test_'),
  KEYSMITH_API_KEY_PEPPER_VERSION: wholeNumber(1, 100).default(1),
  KEYSMITH_API_KEY_CACHE_TTL_MS: wholeNumber(0, 5_000).default(5_000),
  KEYSMITH_API_KEY_CACHE_SIZE: wholeNumber(0, 1_000_000).default(10_000),
  /** Memory the in-memory key index may use; keys beyond it are looked up by query (0: no index). */
  KEYSMITH_KEY_INDEX_MEMORY_MB: wholeNumber(0, 65_536).default(256),
  /** How often each instance reads the keys changed since its last read (revocation bound without a change feed). */
  KEYSMITH_KEY_INDEX_POLL_MS: wholeNumber(100, 5_000).default(1_000),
  KEYSMITH_API_KEY_USAGE_FLUSH_MS: wholeNumber(100, 3_600_000).default(10_000),
  KEYSMITH_AUTH_CHECK_MAX_FAILURES: wholeNumber(1, 1_000_000).default(20),
  KEYSMITH_AUTH_CHECK_FAILURE_WINDOW_SECONDS: wholeNumber(1, 86_400).default(60),
  KEYSMITH_TRUSTED_PROXIES: csv.pipe(
    z.array(z.string().refine(isProxyRange, 'each entry must be an IPv4 or IPv6 address or CIDR with a prefix of at least 1 (127.0.0.1/32, 10.0.0.0/8, ::1/128) or loopback, linklocal, uniquelocal')),
  ).default([]),
  // Replaced by KEYSMITH_TRUSTED_PROXIES; a set value is refused at start-up (see loadConfig).
  KEYSMITH_TRUST_PROXY: z.string().optional(),
  KEYSMITH_TOKEN_EXCHANGE_LIFESPAN_SECONDS: wholeNumber(60, 3_600).default(300),
  /** Redis for limits shared by every replica and change notifications (redis:// or rediss://); none: per-process limits. */
  KEYSMITH_REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  /** How long one Redis command may take before it counts as a failure (the limit falls back). */
  KEYSMITH_REDIS_TIMEOUT_MS: wholeNumber(5, 10_000).default(50),
  /** Per-key rate limits while Redis is unreachable: open (each replica counts alone) or closed (keys with a rate limit are refused). */
  KEYSMITH_REDIS_KEY_LIMIT_FALLBACK: z.enum(['open', 'closed']).default('open'),
  /** Per-address failure limits while Redis is unreachable: closed (further failing keys are answered 429) or open (each replica counts alone). */
  KEYSMITH_REDIS_FAILURE_LIMIT_FALLBACK: z.enum(['open', 'closed']).default('closed'),
  /** How often each instance reads the change feed when nothing wakes it (ms). */
  KEYSMITH_CHANGES_POLL_MS: wholeNumber(100, 60_000).default(1_000),
  /** Following changes made in Keycloak (admin events or a sweep); unset: on when KEYSMITH_SCHEDULER is on. */
  KEYSMITH_KEYCLOAK_SYNC: z.enum(['on', 'off']).optional(),
  /** How soon a change made in Keycloak reaches keys (the bound), in seconds. */
  KEYSMITH_KEYCLOAK_SYNC_BOUND_SECONDS: wholeNumber(6, 3_600).default(60),
  /** `auto`: admin events where a realm has them on, the sweep elsewhere; `sweep`: always the sweep. */
  KEYSMITH_KEYCLOAK_SYNC_MODE: z.enum(['auto', 'sweep']).default('auto'),
  /** Events are read again this far back on every poll (late commits), de-duplicated by id. */
  KEYSMITH_KEYCLOAK_EVENTS_OVERLAP_SECONDS: wholeNumber(0, 600).default(30),
  /** With admin events, a full sweep still runs this often, as a safety net (0: never). */
  KEYSMITH_KEYCLOAK_SAFETY_SWEEP_MINUTES: wholeNumber(0, 7 * 24 * 60).default(60),
  /** What happens to the keys of an account whose client was deleted in Keycloak. */
  KEYSMITH_ORPHANED_ACCOUNT_KEYS: z.enum(['revoke', 'keep']).default('revoke'),
  // Test-only named fault points (src/common/faults/fault-points.ts); refused in production.
  KEYSMITH_FAULT_POINTS: z.string().optional(),
}).refine((env) => env.KEYSMITH_API_KEY_PREFIX_LIVE !== env.KEYSMITH_API_KEY_PREFIX_TEST, {
  message: 'must differ from KEYSMITH_API_KEY_PREFIX_LIVE',
  path: ['KEYSMITH_API_KEY_PREFIX_TEST'],
});

export type Env = z.infer<typeof envSchema>;

export function decodeKey(value: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value, 'base64');
    return bytes.length > 0 ? bytes : undefined;
  }
  return undefined;
}
