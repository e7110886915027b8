/**
 * Named fault points: calls compiled into multi-step operations (provisioning, rotation, recovery)
 * that do nothing unless `KEYSMITH_FAULT_POINTS` names them. Only the fault-injection tests and
 * `npm run chaos` set it; production refuses to start with it (see the config schema).
 *
 *   KEYSMITH_FAULT_POINTS="rotate.intent-recorded=kill,provision.client-created=throw@2"
 *
 * Actions: `kill` ends this process at once with SIGKILL (a crash at that line), `throw` raises
 * a FaultInjectedError (a failure at that line), `unavailable` raises the error the caller names
 * for its dependency being unreachable (a FaultInjectedError where it names none), `pause:<ms>`
 * stalls for that long (a slow or stopped process). `@N` fires only on the Nth time the point is
 * reached (default: every time).
 *
 * Every Keycloak Admin REST call is a point too: `keycloak.<operation>` with the operation's words
 * joined by dashes (`keycloak.grant-realm-roles`, `keycloak.delete-client`), reached before the call.
 */
export class FaultInjectedError extends Error {
  constructor(readonly point: string) {
    super(`fault injected at ${point}`);
    this.name = 'FaultInjectedError';
  }
}

type FaultAction = 'kill' | 'throw' | 'unavailable' | 'pause';

interface FaultRule {
  action: FaultAction;
  pauseMs: number;
  onHit: number | null;
}

export function parseFaultPoints(spec: string | undefined): Map<string, FaultRule> {
  const rules = new Map<string, FaultRule>();
  for (const entry of (spec ?? '').split(',').map((part) => part.trim()).filter(Boolean)) {
    const match = /^([a-z0-9.-]+)=(kill|throw|unavailable|pause:(\d+))(?:@(\d+))?$/.exec(entry);
    if (!match) throw new Error(`KEYSMITH_FAULT_POINTS: "${entry}" is not <point>=kill|throw|unavailable|pause:<ms>[@N]`);
    const action = match[2].startsWith('pause') ? 'pause' : (match[2] as FaultAction);
    rules.set(match[1], { action, pauseMs: Number(match[3] ?? 0), onHit: match[4] ? Number(match[4]) : null });
  }
  return rules;
}

let rules: Map<string, FaultRule> | undefined;
const hits = new Map<string, number>();

/**
 * Reached at a named step; inert unless the environment names this point. `unavailable` builds
 * the error this caller gives when its dependency cannot be reached (for the `unavailable` action).
 */
export async function faultPoint(name: string, unavailable?: () => Error): Promise<void> {
  rules ??= parseFaultPoints(process.env.KEYSMITH_FAULT_POINTS);
  const rule = rules.get(name);
  if (!rule) return;
  const hit = (hits.get(name) ?? 0) + 1;
  hits.set(name, hit);
  if (rule.onHit !== null && rule.onHit !== hit) return;
  if (rule.action === 'kill') process.kill(process.pid, 'SIGKILL');
  if (rule.action === 'throw') throw new FaultInjectedError(name);
  if (rule.action === 'unavailable') throw unavailable?.() ?? new FaultInjectedError(name);
  if (rule.action === 'pause') await new Promise((resolve) => setTimeout(resolve, rule.pauseMs));
}

/** For tests in one process: use these rules from now on and forget earlier hits. */
export function setFaultPoints(spec: string | undefined): void {
  rules = parseFaultPoints(spec);
  hits.clear();
}
