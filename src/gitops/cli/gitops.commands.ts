import type { CliCommand } from '../../common/cli/cli-command.js';
import { applyCommand } from './apply.command.js';
import { exportCommand } from './export.command.js';
import { planCommand } from './plan.command.js';
import { setsAssignCommand } from './sets-assign.command.js';
import { validateCommand } from './validate.command.js';

/** The GitOps commands of `keysmith`. */
export const GITOPS_COMMANDS: CliCommand[] = [validateCommand, planCommand, applyCommand, exportCommand, setsAssignCommand];
