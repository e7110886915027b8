import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * One PostgreSQL database shared by the child-process replicas of a suite: a fresh database on the
 * server of `DATABASE_URL` when that is PostgreSQL (scripts/test.sh), otherwise on a server the
 * suite starts itself with scripts/postgres.sh and stops in `close()`. On a SQLite run of
 * scripts/test.sh, the run's server (KEYSMITH_TEST_POSTGRES_URL).
 */
export class ReplicaDatabase {
  private constructor(
    readonly url: string,
    private readonly adminUrl: string,
    private readonly name: string,
    private readonly ownServerDir: string | null,
  ) {}

  static async create(): Promise<ReplicaDatabase> {
    // The run's server (DATABASE_URL on a PostgreSQL run, KEYSMITH_TEST_POSTGRES_URL on a SQLite run of scripts/test.sh).
    let serverUrl = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : process.env.KEYSMITH_TEST_POSTGRES_URL;
    let ownServerDir: string | null = null;
    if (!serverUrl?.startsWith('postgres')) {
      const output = execFileSync('bash', ['scripts/postgres.sh', 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      serverUrl = /^DATABASE_URL=(.+)$/m.exec(output)?.[1]?.trim();
      ownServerDir = /^KEYSMITH_POSTGRES_DIR=(.+)$/m.exec(output)?.[1]?.trim() ?? null;
      if (!serverUrl) throw new Error(`scripts/postgres.sh start printed no DATABASE_URL: ${output}`);
    }
    const name = `keysmith_replicas_${randomBytes(4).toString('hex')}`;
    await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return new ReplicaDatabase(url.toString(), serverUrl, name, ownServerDir);
  }

  /** One SQL query on the replicas' database (the tests read what the replicas wrote). */
  query<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<pg.QueryResult<T>> {
    return withClient(this.url, (client) => client.query<T>(sql, values));
  }

  async close(): Promise<void> {
    if (this.ownServerDir) {
      execFileSync('bash', ['scripts/postgres.sh', 'stop', this.ownServerDir], { stdio: ['ignore', 'ignore', 'inherit'] });
      return;
    }
    await withClient(this.adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`));
  }
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
