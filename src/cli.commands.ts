import { keysCreateCommand } from './api-keys/index.js';
import type { CliCommand } from './common/cli/cli-command.js';
import { databaseCopyCommand } from './database/copy/database-copy.command.js';
import { GITOPS_COMMANDS } from './gitops/index.js';

/**
 * Every `keysmith` command, assembled at the top so that the CLI framework in `common/cli/`
 * knows no feature. Features add theirs here.
 */
export const COMMANDS: CliCommand[] = [keysCreateCommand, ...GITOPS_COMMANDS, databaseCopyCommand];
