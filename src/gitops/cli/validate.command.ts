import type { CliCommand } from '../../common/cli/cli-command.js';
import { formatIssue, loadDefinitions } from '../definitions/definition-loader.js';
import { definitionsDir } from './gitops-args.js';
import { guardRailChecks } from '../definitions/guard-rails.js';

/** The last line validate writes to stderr on every run: what it could not check offline. */
export const OFFLINE_NOTE =
  'note: validate is offline and judges grants by their names only; plan and apply judge what each grant really gives (composite roles, client scope mappers) against Keycloak';

/** `keysmith validate DIR`: schema, variables, duplicates and guard rails by name; needs no database or Keycloak. */
export const validateCommand: CliCommand = {
  name: 'validate',
  summary: 'check GitOps definitions: every error as file:line: field: message (exit 0 valid, 1 invalid)',
  usage: 'validate DIR',
  async run(args, io) {
    const dir = definitionsDir(args);
    const result = await loadDefinitions(dir, { checks: guardRailChecks(process.env) });
    for (const issue of result.issues) io.out(formatIssue(issue));
    if (result.issues.length > 0) {
      io.err(`${result.issues.length} error(s) in ${new Set(result.issues.map((issue) => issue.file)).size} file(s)`);
      io.err(OFFLINE_NOTE);
      return 1;
    }
    io.out(`${result.definitions.length} definition(s) in ${result.files.length} file(s) are valid`);
    // On stderr, so scripts reading stdout see the result line alone.
    io.err(OFFLINE_NOTE);
    return 0;
  },
};
