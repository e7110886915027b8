import { CliUsageError, flag, type CliArgs } from '../../cli/cli-command.js';

/**
 * The shared parser reads `--json DIR` as `--json=DIR`. GitOps commands know their boolean flags,
 * so a value after one of them is moved back to the positionals: `plan --json defs/` works.
 */
export function withBooleanFlags(args: CliArgs, booleans: string[]): CliArgs {
  const options = { ...args.options };
  const positionals = [...args.positionals];
  for (const name of booleans) {
    const value = options[name];
    if (typeof value === 'string' && value !== 'true' && value !== 'false') {
      options[name] = true;
      positionals.push(value);
    }
  }
  return { positionals, options };
}

/** The one folder (or file) of definitions a command works on. */
export function definitionsDir(args: CliArgs): string {
  if (args.positionals.length !== 1) throw new CliUsageError('name one folder (or file) of definitions');
  return args.positionals[0];
}

export { flag };
