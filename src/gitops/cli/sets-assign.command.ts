import { CliUsageError, flag, listOption, requireOption, type CliCommand } from '../../common/cli/cli-command.js';
import { AssignSetUseCase, assignSetErrors, type AssignSetSummary } from '../usecases/assign-set.usecase.js';
import { cliContext } from '../../common/cli/cli-operator.js';
import { serverOf } from './gitops-cli.support.js';

const FLAGS: Record<string, string> = { set: '--set', clientIds: '--client' };

/**
 * `keysmith sets assign`: puts unassigned GitOps accounts (made before sets existed) into a set,
 * explicitly, by name or all of a realm's at once. In-process, or through a server with `--server`.
 */
export const setsAssignCommand: CliCommand = {
  name: 'sets assign',
  summary: 'put unassigned GitOps accounts into a set, so that its --prune may delete them (exit 0 done, 1 if any failed)',
  usage: 'sets assign --set NAME --realm R (--client C[,C...] | --all-unassigned) [--json] [--server URL]',
  booleanFlags: ['all-unassigned', 'json'],
  async run(args, io, app) {
    const request = { set: requireOption(args, 'set'), realm: requireOption(args, 'realm'), clientIds: listOption(args, 'client'), allUnassigned: flag(args, 'all-unassigned') };
    const errors = assignSetErrors(request);
    if (errors.length > 0) {
      throw new CliUsageError(errors.map((e) => `${FLAGS[e.field.replace(/\[\d+\]$/, '')] ?? e.field}: ${e.message.replace('ask for all unassigned ones', 'give --all-unassigned')}`).join('\n'));
    }
    const server = serverOf(args);
    const summary = server
      ? await server.post<AssignSetSummary>(`/v1/gitops/sets/${encodeURIComponent(request.set)}/assign`, { realm: request.realm, clientIds: request.clientIds, allUnassigned: request.allUnassigned })
      : await (await app()).get(AssignSetUseCase).execute(cliContext(), request);
    if (flag(args, 'json')) io.out(JSON.stringify(summary, null, 2));
    else for (const line of renderAssign(summary)) io.out(line);
    return summary.ok ? 0 : 1;
  },
};

export function renderAssign(summary: AssignSetSummary): string[] {
  const lines = [
    ...summary.assigned.map((clientId) => `~ ${summary.realm}/${clientId}: set: none → ${summary.set}`),
    ...summary.failed.map((f) => `✗ ${summary.realm}/${f.clientId}: ${f.code}: ${f.detail}`),
  ];
  if (lines.length) lines.push('');
  lines.push(`Assigned ${summary.assigned.length} account(s) to set ${summary.set}, ${summary.unchanged.length} already in it, ${summary.failed.length} failed.`);
  return lines;
}

