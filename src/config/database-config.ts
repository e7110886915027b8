import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { wholeNumber } from '../common/http/text.js';

/**
 * How PostgreSQL connections are encrypted, as libpq's `sslmode` names it: `disable`, `require`
 * (encrypted, certificate not checked), `verify-ca` (the server's certificate chains to the CA),
 * `verify-full` (and names the host of DATABASE_URL).
 */
export const DATABASE_SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type DatabaseSslMode = (typeof DATABASE_SSL_MODES)[number];

const POSTGRES_URL = /^postgres(ql)?:\/\/.+/;

/** The environment variables of the database, shared by the app's schema and the TypeORM CLI's data source. */
export const databaseEnvShape = {
  DATABASE_URL: z
    .string()
    .regex(/^sqlite:.+|^postgres(ql)?:\/\/.+/, 'must be sqlite:<path> (for example sqlite:./data/keysmith.sqlite) or postgres://user:password@host:5432/database')
    .refine((url) => !POSTGRES_URL.test(url) || !/[?&](sslmode|ssl|sslcert|sslkey|sslrootcert)=/.test(url), 'must not carry TLS parameters: set DATABASE_SSL and DATABASE_SSL_CA_FILE instead')
    .default('sqlite:./data/keysmith.sqlite'),
  DATABASE_SSL: z.enum(DATABASE_SSL_MODES).default('disable'),
  DATABASE_SSL_CA_FILE: z.string().min(1).optional(),
  DATABASE_POOL_SIZE: wholeNumber(1, 500).default(10),
};

const databaseEnvSchema = z.object(databaseEnvShape);
export type DatabaseEnv = z.infer<typeof databaseEnvSchema>;

export interface SqliteDatabaseConfig {
  type: 'sqlite';
  /** The database file. */
  path: string;
}

export interface PostgresDatabaseConfig {
  type: 'postgres';
  /** The connection URL; it holds the password, so it is not enumerable (never logged or serialised). */
  readonly url: string;
  /** Host and database for messages, without credentials. */
  display: string;
  ssl: { mode: DatabaseSslMode; ca: string | undefined };
  /** Most connections this process opens (LISTEN takes one more of its own). */
  poolSize: number;
}

export type DatabaseConfig = SqliteDatabaseConfig | PostgresDatabaseConfig;

/** Checks that only the environment can see: the CA file is readable, TLS settings fit the engine. */
export function databaseProblems(env: DatabaseEnv): { variable: string; message: string }[] {
  const problems: { variable: string; message: string }[] = [];
  const postgres = POSTGRES_URL.test(env.DATABASE_URL);
  if (!postgres && env.DATABASE_SSL !== 'disable') problems.push({ variable: 'DATABASE_SSL', message: 'applies to PostgreSQL only (DATABASE_URL is SQLite)' });
  if (postgres && env.DATABASE_SSL === 'verify-ca' && env.DATABASE_SSL_CA_FILE === undefined) {
    // Without a CA of its own, verify-ca would accept a certificate any public CA issued for any host name.
    problems.push({ variable: 'DATABASE_SSL_CA_FILE', message: 'is required with DATABASE_SSL=verify-ca (the CA that signed the server certificate); or use verify-full, which also checks the host name' });
  }
  if (env.DATABASE_SSL_CA_FILE !== undefined) {
    if (!['verify-ca', 'verify-full'].includes(env.DATABASE_SSL)) {
      problems.push({ variable: 'DATABASE_SSL_CA_FILE', message: 'needs DATABASE_SSL=verify-ca or verify-full' });
    } else {
      try {
        readFileSync(env.DATABASE_SSL_CA_FILE, 'utf8');
      } catch (error) {
        problems.push({ variable: 'DATABASE_SSL_CA_FILE', message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
      }
    }
  }
  if (postgres) {
    try {
      new URL(env.DATABASE_URL);
    } catch {
      problems.push({ variable: 'DATABASE_URL', message: 'is not a valid URL (percent-encode special characters of the password)' });
    }
  }
  return problems;
}

/** The typed database settings; call after `databaseProblems` found none. */
export function databaseSettings(env: DatabaseEnv): DatabaseConfig {
  if (!POSTGRES_URL.test(env.DATABASE_URL)) return { type: 'sqlite', path: env.DATABASE_URL.slice('sqlite:'.length) };
  const url = new URL(env.DATABASE_URL);
  const config = {
    type: 'postgres',
    display: `${url.hostname}:${url.port || '5432'}${url.pathname}`,
    ssl: { mode: env.DATABASE_SSL, ca: env.DATABASE_SSL_CA_FILE ? readFileSync(env.DATABASE_SSL_CA_FILE, 'utf8') : undefined },
    poolSize: env.DATABASE_POOL_SIZE,
  } as PostgresDatabaseConfig;
  Object.defineProperty(config, 'url', { value: env.DATABASE_URL, enumerable: false });
  return config;
}

/** Reads the database settings alone from an environment (the TypeORM CLI's data source); throws naming each bad variable. */
export function databaseConfigFromEnv(source: Record<string, string | undefined>): DatabaseConfig {
  const input = Object.fromEntries(Object.entries(source).filter(([name, value]) => name.startsWith('DATABASE_') && value !== ''));
  const parsed = databaseEnvSchema.safeParse(input);
  const problems = parsed.success
    ? databaseProblems(parsed.data)
    : parsed.error.issues.map((issue) => ({ variable: String(issue.path[0]), message: issue.message }));
  if (problems.length > 0 || !parsed.success) throw new Error(`Invalid database configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`);
  return databaseSettings(parsed.data);
}

/** The `ssl` option of node-postgres for a mode: false, or what to check of the server's certificate. */
export function postgresTlsOptions(ssl: PostgresDatabaseConfig['ssl']): false | { rejectUnauthorized: boolean; ca?: string; checkServerIdentity?: () => undefined } {
  switch (ssl.mode) {
    case 'disable':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      // The chain is checked against the CA; the host name is not (libpq's verify-ca).
      return { rejectUnauthorized: true, ...(ssl.ca ? { ca: ssl.ca } : {}), checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true, ...(ssl.ca ? { ca: ssl.ca } : {}) };
  }
}
