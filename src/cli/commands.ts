import type { CliCommand } from './cli-command.js';
import { GITOPS_COMMANDS } from '../gitops/cli/gitops.commands.js';

/** Every `keysmith` command. Features add theirs here. */
export const COMMANDS: CliCommand[] = [...GITOPS_COMMANDS];
