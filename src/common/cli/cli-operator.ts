import { userInfo } from 'node:os';
import { systemContext, type OperationContext } from '../context/operation-context.js';

/** Where the operator's name comes from; replaced in tests. */
export interface OperatorSources {
  env: Record<string, string | undefined>;
  osUserName: () => string;
}

const DEFAULT_SOURCES: OperatorSources = { env: process.env, osUserName: () => userInfo().username };

/**
 * The one rule naming the operator behind every CLI command's audit events: `USER`, then
 * `LOGNAME`, then the operating system's user name, then `unknown` (a user id without a passwd
 * entry, as in some containers).
 */
export function cliOperator(sources: OperatorSources = DEFAULT_SOURCES): string {
  for (const name of ['USER', 'LOGNAME'] as const) {
    const value = sources.env[name]?.trim();
    if (value) return value;
  }
  try {
    const name = sources.osUserName().trim();
    if (name) return name;
  } catch {
    // os.userInfo() throws when the user id has no name.
  }
  return 'unknown';
}

/** Who acts in-process: actor type `cli`, named by `cliOperator()`. */
export function cliContext(source: string | null = null, sources: OperatorSources = DEFAULT_SOURCES): OperationContext {
  return systemContext('cli', cliOperator(sources), source);
}
