import { createInterface } from 'node:readline/promises';
import type { INestApplicationContext } from '@nestjs/common';
import { CliUsageError, flag, stringOption, type CliArgs, type CliCommand, type CliIo } from '../../common/cli/cli-command.js';
import type { ApplySummary, GitopsPlan } from '../gitops.types.js';
import { sourceLabelSchema } from '../dto/gitops.schemas.js';
import { renderApply, renderPlan } from '../render/gitops-renderer.js';
import { ApplyDefinitionsUseCase, type ApplyOptions } from '../usecases/apply-definitions.usecase.js';
import type { DesiredAccount } from '../usecases/desired-accounts.js';
import { PlanDefinitionsUseCase } from '../usecases/plan-definitions.usecase.js';
import { definitionsDir } from './gitops-args.js';
import { cliContext } from '../../common/cli/cli-operator.js';
import { intOption, loadForCommand, realmsOption, serverOf, setOptions, withDefinedAt } from './gitops-cli.support.js';
import { bundleBody } from './gitops-server.client.js';

/**
 * `keysmith apply DIR`: makes Keycloak and Keysmith match the files. Without `--auto-approve` it
 * shows the plan and asks first (and refuses to run unattended).
 */
export const applyCommand: CliCommand = {
  name: 'apply',
  summary: 'make Keycloak and Keysmith match the definitions (exit 0 done, 1 failed: the summary lists what was applied)',
  usage:
    'apply DIR [--set NAME] [--prune] [--adopt-from-set OTHER] [--adopt-unassigned] [--auto-approve] [--source LABEL] [--max-deletions N] [--force-deletions] [--refresh] [--realm R] [--json] [--server URL]',
  booleanFlags: ['prune', 'json', 'auto-approve', 'force-deletions', 'adopt-unassigned', 'refresh'],
  async run(args, io, app) {
    const dir = definitionsDir(args);
    const sets = setOptions(args);
    const desired = await loadForCommand(dir, io);
    if (!desired) return 1;
    const options = {
      ...sets,
      realms: realmsOption(args),
      source: sourceOption(args),
      maxDeletions: intOption(args, 'max-deletions'),
      forceDeletions: flag(args, 'force-deletions'),
      refresh: flag(args, 'refresh'),
    };
    const server = serverOf(args);

    if (!flag(args, 'auto-approve')) {
      let plan = server
        ? await server.post<GitopsPlan>('/v1/gitops/plan', { definitions: desired.map((d) => d.definition), ...bundleBody(options), ...(options.refresh ? { refresh: true } : {}) })
        : await (await app()).get(PlanDefinitionsUseCase).execute(desired, options);
      plan = { ...plan, accounts: withDefinedAt(plan.accounts, desired) };
      for (const line of renderPlan(plan)) io.out(line);
      if (plan.summary.errors > 0 || plan.summary.forbidden > 0) return 1;
      if (!plan.hasChanges) return 0;
      if (!(await confirm(io))) {
        io.err('apply cancelled');
        return 1;
      }
    }

    const summary = server
      ? await server.post<ApplySummary>('/v1/gitops/apply', {
          definitions: desired.map((d) => d.definition),
          ...bundleBody(options),
          forceDeletions: options.forceDeletions,
          ...(options.refresh ? { refresh: true } : {}),
          ...(options.source ? { source: options.source } : {}),
          ...(options.maxDeletions !== undefined ? { maxDeletions: options.maxDeletions } : {}),
        })
      : await applyInProcess(await app(), desired, options, io);
    if (flag(args, 'json')) io.out(JSON.stringify(summary, null, 2));
    else for (const line of renderApply(summary)) io.out(line);
    return summary.ok ? 0 : 1;
  },
};

/**
 * Runs the apply in this process. A first SIGINT or SIGTERM (Ctrl-C, a pipeline cancelled) lets the
 * accounts under way finish and starts no other, so nothing is left half-made and the summary says
 * what was not started; a second one ends the process at once (what it leaves is completed by the
 * server's recovery job).
 */
async function applyInProcess(context: INestApplicationContext, desired: DesiredAccount[], options: ApplyOptions, io: CliIo): Promise<ApplySummary> {
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    // Either signal next takes Node's default: the process ends at once.
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    io.err(`${signal}: finishing the accounts under way, starting no other (a second signal stops at once)`);
    controller.abort(`${signal} received`);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return await context.get(ApplyDefinitionsUseCase).execute(cliContext(options.source), desired, { ...options, signal: controller.signal });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

async function confirm(io: CliIo): Promise<boolean> {
  if (!process.stdin.isTTY) {
    io.err('apply needs --auto-approve when not run in a terminal (review the plan with keysmith plan first)');
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question('Apply these changes? Only "yes" is accepted: ')).trim() === 'yes';
  } finally {
    rl.close();
  }
}

/** `--source LABEL`, held to the rule the HTTP API holds `source` to. */
function sourceOption(args: CliArgs): string | null {
  const label = stringOption(args, 'source');
  if (label === undefined) return null;
  const parsed = sourceLabelSchema.safeParse(label);
  if (!parsed.success) throw new CliUsageError(`--source: ${parsed.error.issues[0].message}`);
  return parsed.data;
}
