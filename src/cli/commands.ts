import { keysCreateCommand } from '../api-keys/cli/keys-create.command.js';
import type { CliCommand } from './cli-command.js';
import { GITOPS_COMMANDS } from '../gitops/cli/gitops.commands.js';

/** Every `keysmith` command. Features add theirs here. */
export const COMMANDS: CliCommand[] = [keysCreateCommand, ...GITOPS_COMMANDS];
