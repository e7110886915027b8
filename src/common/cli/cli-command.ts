import type { INestApplicationContext } from '@nestjs/common';

/** The parsed command line: positional arguments and `--flag value` / `--flag` options. */
export interface CliArgs {
  positionals: string[];
  options: Record<string, string | boolean | string[]>;
}

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/**
 * One `keysmith` command. `run` returns the process exit code. Commands that need the app get an
 * application context (database, Keycloak, services; no HTTP listener) from `app()`, created on
 * first use so that commands like `validate` start without a database or Keycloak.
 */
export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  /** Options that take no value: `--json DIR` leaves DIR a positional argument. */
  booleanFlags?: string[];
  run(args: CliArgs, io: CliIo, app: () => Promise<INestApplicationContext>): Promise<number>;
}

export class CliUsageError extends Error {}

/** Parses argv the same way for the `keysmith` entry point and for tests: use `argsFor(command, argv)`. */
export function parseArgs(argv: string[], booleanFlags: readonly string[] = []): CliArgs {
  const positionals: string[] = [];
  const options: CliArgs['options'] = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const [flag, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const next = argv[i + 1];
    const takesValue = !booleanFlags.includes(flag);
    const value = inline ?? (takesValue && next !== undefined && !next.startsWith('--') ? (i += 1, next) : true);
    const existing = options[flag];
    options[flag] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [String(existing)]), String(value)];
  }
  return { positionals, options };
}

/**
 * The command line of `command`, refusing an option it does not take: a misspelt `--max-deletions`
 * or `--detailed-exitcode` in a pipeline must fail, not run without its guard. The options a
 * command takes are those its usage line names, so the help and the parser cannot disagree.
 */
export function argsFor(command: CliCommand, argv: string[]): CliArgs {
  const args = parseArgs(argv, command.booleanFlags);
  const known = optionsOf(command);
  const unknown = Object.keys(args.options).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new CliUsageError(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `--${name}`).join(', ')} for keysmith ${command.name}`);
  }
  return args;
}

/** The options `command` takes: each `--name` of its usage line. */
export function optionsOf(command: Pick<CliCommand, 'usage'>): Set<string> {
  return new Set([...command.usage.matchAll(/--([a-z][a-z-]*)/g)].map((match) => match[1]));
}

export function stringOption(args: CliArgs, name: string): string | undefined {
  const value = args.options[name];
  if (value === undefined || value === true) return undefined;
  return Array.isArray(value) ? value[value.length - 1] : String(value);
}

export function requireOption(args: CliArgs, name: string): string {
  const value = stringOption(args, name);
  if (!value) throw new CliUsageError(`--${name} is required`);
  return value;
}

export function flag(args: CliArgs, name: string): boolean {
  return args.options[name] === true || args.options[name] === 'true';
}

/** A list option given as `--x a,b --x c` or `--x a b` is not supported; commas and repeats are. */
export function listOption(args: CliArgs, name: string): string[] {
  const value = args.options[name];
  if (value === undefined || value === true) return [];
  return (Array.isArray(value) ? value : [String(value)]).flatMap((item) => item.split(',')).map((s) => s.trim()).filter(Boolean);
}
