import { flag, type CliCommand } from '../../common/cli/cli-command.js';
import type { GitopsPlan } from '../gitops.types.js';
import { renderPlan } from '../render/gitops-renderer.js';
import { PlanDefinitionsUseCase } from '../usecases/plan-definitions.usecase.js';
import { definitionsDir } from './gitops-args.js';
import { bundleBody } from './gitops-server.client.js';
import { loadForCommand, realmsOption, serverOf, setOptions, withDefinedAt } from './gitops-cli.support.js';

/** `keysmith plan DIR`: what apply would create, change and delete; writes nothing. */
export const planCommand: CliCommand = {
  name: 'plan',
  summary: 'show what apply would create, change, delete (exit 0; 2 with --detailed-exitcode when there are changes; 1 on error)',
  usage: 'plan DIR [--set NAME] [--prune] [--adopt-from-set OTHER] [--adopt-unassigned] [--realm R] [--refresh] [--json] [--detailed-exitcode] [--server URL]',
  booleanFlags: ['prune', 'json', 'detailed-exitcode', 'adopt-unassigned', 'refresh'],
  async run(args, io, app) {
    const dir = definitionsDir(args);
    const sets = setOptions(args);
    const desired = await loadForCommand(dir, io);
    if (!desired) return 1;
    const options = { ...sets, realms: realmsOption(args), refresh: flag(args, 'refresh') };
    const server = serverOf(args);
    let plan: GitopsPlan;
    if (server) {
      plan = await server.post<GitopsPlan>('/v1/gitops/plan', { definitions: desired.map((d) => d.definition), ...bundleBody(options), ...(options.refresh ? { refresh: true } : {}) });
      plan = { ...plan, accounts: withDefinedAt(plan.accounts, desired) };
    } else {
      plan = await (await app()).get(PlanDefinitionsUseCase).execute(desired, options);
    }
    if (flag(args, 'json')) io.out(JSON.stringify(plan, null, 2));
    else for (const line of renderPlan(plan)) io.out(line);
    if (plan.summary.errors > 0 || plan.summary.forbidden > 0) return 1;
    return plan.hasChanges && flag(args, 'detailed-exitcode') ? 2 : 0;
  },
};
