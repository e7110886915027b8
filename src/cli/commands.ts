import type { CliCommand } from './cli-command.js';

/** Every `keysmith` command. Features add theirs here. */
export const COMMANDS: CliCommand[] = [];
