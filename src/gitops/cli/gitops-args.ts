import { CliUsageError, flag, type CliArgs } from '../../common/cli/cli-command.js';

/** The one folder (or file) of definitions a command works on. */
export function definitionsDir(args: CliArgs): string {
  if (args.positionals.length !== 1) throw new CliUsageError('name one folder (or file) of definitions');
  return args.positionals[0];
}

export { flag };
