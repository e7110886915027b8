import type { AccountChange } from '../ports/gitops-accounts.port.js';
import type { AccountPlan, AccountRef, ApplySummary, GitopsPlan } from '../gitops.types.js';

const SYMBOL: Record<AccountPlan['action'], string> = { create: '+', update: '~', delete: '-', noop: ' ', error: '!' };

function value(v: unknown): string {
  return v === null || v === undefined ? 'none' : typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * One change as a plan line: `+ realmRoles: orders-reader`, `~ description: "a" → "b"`; a change that
 * undoes one made in Keycloak says so: `~ enabled: false (changed in Keycloak) → true`.
 */
export function formatChange(change: AccountChange): string {
  const keycloak = change.origin === 'keycloak';
  if (change.action === 'add') return `+ ${change.field}: ${change.value}${keycloak ? ' (removed in Keycloak)' : ''}`;
  if (change.action === 'remove') return `- ${change.field}: ${change.value}${keycloak ? ' (added in Keycloak)' : ''}`;
  if (change.from === null || change.from === undefined) return `+ ${change.field}: ${value(change.to)}`;
  return `~ ${change.field}: ${value(change.from)}${keycloak ? ' (changed in Keycloak)' : ''} → ${value(change.to)}`;
}

/** The plan as people read it in a terminal or a pull-request comment. Holds no secret. */
export function renderPlan(plan: GitopsPlan): string[] {
  const lines: string[] = [];
  for (const account of plan.accounts) {
    if (account.action === 'noop' && !account.adopt && !account.setChange && account.forbidden.length === 0) continue;
    const where = account.definedAt ? `  (${account.definedAt})` : '';
    const verb = account.action !== 'noop' ? account.action : account.adopt ? 'adopt' : account.setChange ? 'move' : 'noop';
    lines.push(`${SYMBOL[account.action]} ${account.realm}/${account.clientId}: ${verb}${where}`);
    if (account.adopt) lines.push('    ~ managedBy: api → gitops');
    if (account.setChange) lines.push(`    ${formatChange({ field: 'set', action: 'set', from: account.setChange.from, to: account.setChange.to })}`);
    for (const change of account.changes) lines.push(`    ${formatChange(change)}`);
    if (account.unassigned) lines.push(`    ! no set: updated but left unassigned, never pruned (${ASSIGN_HINT})`);
    for (const violation of account.violations ?? []) lines.push(`    ✗ forbidden by the guard-rail policy: ${violation.path.join(' → ')}: ${violation.message}`);
    if (account.error) lines.push(`    ✗ ${account.error.code}: ${account.error.detail}`);
  }
  const setNote = plan.set ? `set ${plan.set}; ` : '';
  for (const kept of plan.notPruned) lines.push(`  ${kept.realm}/${kept.clientId}: not in the definitions; kept (${setNote}deleted only with --prune)`);
  lines.push(...unassignedLines(plan.unassigned));
  const s = plan.summary;
  const unassignedNamed = plan.accounts.filter((a) => a.unassigned).length;
  if (lines.length) lines.push('');
  lines.push(
    `Plan: ${s.create} to create, ${s.update} to change, ${s.delete} to delete, ${s.noop} unchanged` +
      (s.forbidden ? `, ${s.forbidden} refused by guard rails` : '') +
      (s.errors ? `, ${s.errors} with errors` : '') +
      (unassignedNamed ? `, ${unassignedNamed} without a set` : '') +
      '.',
  );
  if (plan.read) lines.push(readLine(plan.read));
  return lines;
}

/** How the plan read Keycloak (the mode, and how many accounts were read in detail). */
function readLine(read: GitopsPlan['read']): string {
  const detail = `${read.detailed} account${read.detailed === 1 ? '' : 's'} read in detail`;
  return read.mode === 'summary' ? `Read: summary (${detail}; --refresh reads every account).` : `Read: full refresh (${detail}).`;
}

const ASSIGN_HINT = 'assign it with keysmith sets assign, or apply with --adopt-unassigned';

function unassignedLines(unassigned: AccountRef[]): string[] {
  return unassigned.map((a) => `  ${a.realm}/${a.clientId}: GitOps account with no set, not in the definitions; never pruned (keysmith sets assign)`);
}

/** The apply summary: what was applied, what failed, where new secrets are. */
export function renderApply(summary: ApplySummary): string[] {
  const lines: string[] = [];
  if (summary.refused) {
    lines.push(`✗ refused: ${summary.refused.reason}`);
    return lines;
  }
  for (const item of summary.applied) {
    if (item.action === 'unchanged') continue;
    lines.push(`${item.action === 'created' ? '+' : item.action === 'deleted' ? '-' : '~'} ${item.realm}/${item.clientId}: ${item.action}`);
    for (const change of item.changes) lines.push(`    ${formatChange(change)}`);
    if (item.secret) lines.push(`    client secret: not printed; read it with ${item.secret} (scope secrets:read)`);
  }
  for (const item of summary.failed) lines.push(`✗ ${item.realm}/${item.clientId}: ${item.action} failed: ${item.code}: ${item.detail}`);
  if (summary.stopped) {
    lines.push(`■ stopped (${summary.stopped.reason}): the accounts under way were finished; not started, run apply again for them:`);
    for (const item of summary.stopped.notStarted) lines.push(`  ${item.realm}/${item.clientId}`);
  }
  lines.push(...unassignedLines(summary.unassigned));
  const unassignedNamed = summary.applied.filter((a) => a.unassigned).length;
  const labels = [...(summary.set ? [`set ${summary.set}`] : []), ...(summary.source ? [`source ${summary.source}`] : [])];
  const count = (action: string) => summary.applied.filter((a) => a.action === action).length;
  if (lines.length) lines.push('');
  lines.push(
    `Apply ${summary.ok ? 'complete' : summary.stopped ? 'stopped' : 'failed'}: ${count('created')} created, ${count('updated')} changed, ${count('deleted')} deleted, ${count('unchanged')} unchanged, ${summary.failed.length} failed` +
      (summary.stopped ? `, ${summary.stopped.notStarted.length} not started` : '') +
      (unassignedNamed ? `, ${unassignedNamed} left without a set` : '') +
      (labels.length ? ` (${labels.join(', ')})` : '') +
      '.',
  );
  return lines;
}
