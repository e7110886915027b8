import { CliUsageError, flag, stringOption, listOption, type CliArgs, type CliIo } from '../../common/cli/cli-command.js';
import { formatIssue, loadDefinitions, type LoadedDefinition } from '../definitions/definition-loader.js';
import { setOptionErrors, type DesiredAccount } from '../usecases/desired-accounts.js';
import { GitopsServerClient } from './gitops-server.client.js';

/**
 * Loads the definitions a command works on. Schema problems stop the command (exit 1) with every
 * error printed; guard rails are left to the plan, which flags them per account.
 */
export async function loadForCommand(dir: string, io: CliIo): Promise<DesiredAccount[] | undefined> {
  const result = await loadDefinitions(dir);
  if (result.issues.length > 0) {
    for (const issue of result.issues) io.err(formatIssue(issue));
    io.err(`${result.issues.length} error(s) in the definitions; run keysmith validate ${dir}`);
    return undefined;
  }
  return result.definitions.map(toDesired);
}

export function toDesired(loaded: LoadedDefinition): DesiredAccount {
  return { definition: loaded.definition, definedAt: `${loaded.location.file}:${loaded.location.line}` };
}

export function serverOf(args: CliArgs): GitopsServerClient | undefined {
  const server = stringOption(args, 'server');
  if (args.options.server === true) throw new CliUsageError('--server needs a URL');
  return server ? GitopsServerClient.fromEnv(serverUrl(server)) : undefined;
}

/**
 * The base URL of a running Keysmith: http or https, with a path prefix when it is served below
 * one. A user name or password in it is refused without being repeated (error output lands in
 * pipeline logs): the credential goes in KEYSMITH_TOKEN.
 */
export function serverUrl(value: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new CliUsageError('--server: must be an http:// or https:// URL, such as https://keysmith.example.com');
  }
  if (url.username || url.password) throw new CliUsageError('--server: must not hold a user name or password; give the token or key in KEYSMITH_TOKEN');
  // A bare `?` or `#` leaves url.search and url.hash empty, yet the routes would be appended after it.
  if (url.search || url.hash || /[?#]/.test(value)) throw new CliUsageError('--server: must not hold a query or a fragment; give the base URL Keysmith is served at');
  return url.href.replace(/\/+$/, '');
}

export function realmsOption(args: CliArgs): string[] {
  return listOption(args, 'realm');
}

export interface SetOptions {
  prune: boolean;
  set: string | null;
  adoptFromSets: string[];
  adoptUnassigned: boolean;
}

const SET_FLAGS: Record<string, string> = { set: '--set', adoptFromSets: '--adopt-from-set' };

/**
 * `--prune`, `--set NAME`, `--adopt-from-set OTHER` (repeatable, or commas) and `--adopt-unassigned`,
 * checked by the same rules as the HTTP body: `--prune` and adoption need `--set`.
 */
export function setOptions(args: CliArgs): SetOptions {
  if (args.options.set === true) throw new CliUsageError('--set needs a name');
  const options = { prune: flag(args, 'prune'), set: stringOption(args, 'set') ?? null, adoptFromSets: listOption(args, 'adopt-from-set'), adoptUnassigned: flag(args, 'adopt-unassigned') };
  const errors = setOptionErrors(options);
  if (errors.length > 0) {
    throw new CliUsageError(errors.map((e) => `${SET_FLAGS[e.field.replace(/\[\d+\]$/, '')] ?? e.field}: ${e.message.replace('with prune', 'with --prune')}`).join('\n'));
  }
  return options;
}

export function intOption(args: CliArgs, name: string): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new CliUsageError(`--${name} must be a whole number`);
  return Number(text);
}

/** Re-attaches file positions to a plan computed by a server, which never saw the files. */
export function withDefinedAt<T extends { realm: string; clientId: string; definedAt?: string }>(items: T[], desired: DesiredAccount[]): T[] {
  const where = new Map(desired.map((d) => [`${d.definition.metadata.realm}/${d.definition.metadata.name}`, d.definedAt]));
  return items.map((item) => {
    const definedAt = where.get(`${item.realm}/${item.clientId}`);
    return definedAt ? { ...item, definedAt } : item;
  });
}

