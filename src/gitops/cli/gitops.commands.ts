import type { CliCommand } from '../../cli/cli-command.js';
import { validateCommand } from './validate.command.js';

/** The GitOps commands of `keysmith`. */
export const GITOPS_COMMANDS: CliCommand[] = [validateCommand];
