import type { OperationContext } from '../../common/context/operation-context.js';
import { keysmithScopesBeyondCaller } from '../../common/auth/caller-authority.js';
import { GrantGraphReader, GrantGraphUnreadable, roleGrantName, type RoleNode, type RoleRef, type ScopeNode } from '../../common/grants/grant-graph.js';
import { judgeMapper } from './mapper-rules.js';

/** What a service account asks to be granted: roles by name, client scopes by name. */
export interface GrantRequest {
  realmRoles: string[];
  clientRoles: Record<string, string[]>;
  scopes: string[];
}

/**
 * Why a grant is refused:
 * - `denied`: it gives a role or is a scope that a deny pattern names;
 * - `keysmith-scope`: one of Keysmith's own API scopes that the caller does not hold;
 * - `mapper`: a protocol mapper of the scope that is not on the allow-list;
 * - `scope-mapping`: a role scope mapping of the scope gives a forbidden role;
 * - `unverifiable`: Keysmith could not read or understand what it gives (fail closed).
 */
export type ViolationReason = 'denied' | 'keysmith-scope' | 'mapper' | 'scope-mapping' | 'unverifiable';

export interface GrantViolation {
  /** The requested grant: `realm:<role>`, `client:<client>:<role>` or `scope:<name>`. */
  grant: string;
  /** From the grant to what makes it forbidden, e.g. `['realm:ops', 'client:realm-management:manage-users']`. */
  path: string[];
  reason: ViolationReason;
  message: string;
}

export interface GrantVerdict {
  violations: GrantViolation[];
  /** Every role the grants give (composites expanded, roles added by hardcoded-role mappers), sorted. */
  effectiveRoles: string[];
}

/** What the validator knows of a role or scope it could not read. */
export type GraphGap = { gap: 'missing' } | { gap: 'unreadable'; reason: string };

/** Everything reachable from a request: read once, then judged without further I/O. */
export interface GrantGraph {
  roles: Map<string, RoleNode | GraphGap>;
  scopes: Map<string, ScopeNode | GraphGap>;
}

/** The policy as the evaluation needs it (GrantPolicy implements it). */
export interface GrantRules {
  denies(grant: string): boolean;
  allows(grant: string): boolean;
  readonly allowClaims: RegExp[];
}

export interface EvaluationSettings {
  rules: GrantRules;
  ownerClaim: string;
  /** Keysmith's own scopes among the requested ones that the caller does not hold. */
  scopesBeyondCaller: string[];
  adminScope: string;
}

/** At most this many roles are read for one request; beyond, the request is refused as unverifiable. */
export const MAX_GRAPH_ROLES = 2_000;

export function requestedRoles(request: GrantRequest): RoleRef[] {
  return [
    ...request.realmRoles.map((name): RoleRef => ({ kind: 'realm', name })),
    ...Object.entries(request.clientRoles).flatMap(([clientId, roles]) => roles.map((name): RoleRef => ({ kind: 'client', clientId, name }))),
  ];
}

/**
 * Reads, through the port, every role and scope a request reaches: the requested roles and their
 * composites at any depth (each role once, so cycles end), the requested scopes, and the roles
 * their mappers and role scope mappings add. Keycloak failures propagate; answers the reader
 * cannot understand become gaps that the evaluation refuses.
 */
export async function loadGrantGraph(reader: GrantGraphReader, realm: string, request: GrantRequest, maxRoles = MAX_GRAPH_ROLES): Promise<GrantGraph> {
  const graph: GrantGraph = { roles: new Map(), scopes: new Map() };
  const scopes = await Promise.all([...new Set(request.scopes)].map(async (name) => [name, await readGap(() => reader.scope(realm, name))] as const));
  let frontier = requestedRoles(request);
  for (const [name, node] of scopes) {
    graph.scopes.set(name, node);
    if ('gap' in node) continue;
    frontier.push(...node.roleMappings, ...node.mappers.flatMap((mapper) => (mapper.role ? [mapper.role] : [])));
  }
  while (frontier.length > 0) {
    const next = [...new Map(frontier.map((ref) => [roleGrantName(ref), ref])).values()].filter((ref) => !graph.roles.has(roleGrantName(ref)));
    if (graph.roles.size + next.length > maxRoles) {
      for (const ref of next) graph.roles.set(roleGrantName(ref), { gap: 'unreadable', reason: `the grants reach more than ${maxRoles} roles` });
      break;
    }
    const read = await Promise.all(next.map(async (ref) => [ref, await readGap(() => reader.role(realm, ref))] as const));
    frontier = [];
    for (const [ref, node] of read) {
      graph.roles.set(roleGrantName(ref), node);
      if (!('gap' in node)) frontier.push(...node.children);
    }
  }
  return graph;
}

async function readGap<T>(read: () => Promise<T | undefined>): Promise<T | GraphGap> {
  try {
    return (await read()) ?? { gap: 'missing' };
  } catch (error) {
    if (error instanceof GrantGraphUnreadable) return { gap: 'unreadable', reason: error.message };
    throw error;
  }
}

/**
 * Judges a request over a graph already read: every role it really gives against the policy,
 * every mapper of a granted scope against the allow-list, Keysmith's own scopes against the
 * caller's. Pure: the same graph and settings always give the same verdict.
 */
export function evaluateGrants(graph: GrantGraph, request: GrantRequest, settings: EvaluationSettings): GrantVerdict {
  const violations: GrantViolation[] = [];
  const effective = new Set<string>();
  for (const ref of requestedRoles(request)) {
    const grant = roleGrantName(ref);
    walkRoles(graph, settings.rules, ref, [], settings.rules.allows(grant), effective, (path, reason, message) =>
      violations.push({ grant, path, reason, message }),
    );
  }
  for (const name of [...new Set(request.scopes)]) violations.push(...judgeScope(graph, name, settings, effective));
  return { violations, effectiveRoles: [...effective].sort() };
}

type Report = (path: string[], reason: ViolationReason, message: string) => void;

/**
 * Breadth-first from `start`, so each forbidden role is reported on its shortest path. Below a
 * forbidden role nothing more is reported (it is refused already); below an allowed one the walk
 * goes on to learn the effective roles, and still refuses what it cannot read.
 */
function walkRoles(graph: GrantGraph, rules: GrantRules, start: RoleRef, prefix: string[], excused: boolean, effective: Set<string>, report: Report): void {
  const queue: { ref: RoleRef; path: string[]; excused: boolean }[] = [{ ref: start, path: [...prefix, roleGrantName(start)], excused }];
  const seen = new Set<string>([roleGrantName(start)]);
  while (queue.length > 0) {
    const { ref, path, excused: pathExcused } = queue.shift()!;
    const name = roleGrantName(ref);
    const node = graph.roles.get(name);
    const allowed = pathExcused || rules.allows(name);
    if (!node || 'gap' in node) {
      const why = !node || node.gap === 'missing' ? `${name} does not exist` : `${name} could not be read: ${node.reason}`;
      report(path, 'unverifiable', `${why}, so what the grant gives cannot be judged`);
      continue;
    }
    if (rules.denies(name) && !allowed) {
      report(path, 'denied', `${name} is forbidden by the guard-rail policy`);
      continue;
    }
    effective.add(name);
    for (const child of node.children) {
      const childName = roleGrantName(child);
      if (seen.has(childName)) continue;
      seen.add(childName);
      queue.push({ ref: child, path: [...path, childName], excused: allowed });
    }
  }
}

function judgeScope(graph: GrantGraph, name: string, settings: EvaluationSettings, effective: Set<string>): GrantViolation[] {
  const grant = `scope:${name}`;
  const violations: GrantViolation[] = [];
  const report = (reason: ViolationReason, path: string[], message: string) => violations.push({ grant, path, reason, message });
  if (settings.scopesBeyondCaller.includes(name)) {
    report('keysmith-scope', [grant], name === settings.adminScope
      ? `${grant} lifts the owner boundary of Keysmith's API; only a caller holding ${name} may grant it`
      : `${grant} is one of Keysmith's own API scopes; only a caller holding it may grant it`);
  }
  const excused = settings.rules.allows(grant);
  if (settings.rules.denies(grant) && !excused) {
    report('denied', [grant], `${grant} is forbidden by the guard-rail policy`);
    return violations;
  }
  const node = graph.scopes.get(name);
  if (!node || 'gap' in node) {
    const why = !node || node.gap === 'missing' ? `${grant} does not exist` : `${grant} could not be read: ${node.reason}`;
    report('unverifiable', [grant], `${why}, so what it adds to tokens cannot be judged`);
    return violations;
  }
  for (const mapper of node.mappers) {
    const path = [grant, `mapper:${mapper.name}`];
    const verdict = judgeMapper(mapper, { ownerClaim: settings.ownerClaim, allowClaims: settings.rules.allowClaims });
    if (!verdict.ok) {
      if (!excused) report('mapper', path, verdict.message);
      continue;
    }
    if (!('addsRole' in verdict)) continue;
    if (!mapper.role) {
      report('unverifiable', path, `the hardcoded role ${mapper.config.role ?? '(none)'} is not a role Keysmith can find, so it cannot be judged`);
      continue;
    }
    walkRoles(graph, settings.rules, mapper.role, path, excused, effective, (p, reason, message) => report(reason, p, message));
  }
  for (const role of node.roleMappings) {
    // fullScopeAllowed is on, so a role scope mapping adds nothing to tokens; refused anyway.
    walkRoles(graph, settings.rules, role, [grant], excused, new Set(), (p, reason, message) =>
      report(reason === 'denied' ? 'scope-mapping' : reason, p, reason === 'denied'
        ? `${message}, through a role scope mapping (it adds nothing to tokens while fullScopeAllowed is on; refused anyway as defence in depth)`
        : message),
    );
  }
  return violations;
}

/** How the validator is configured. */
export interface GrantValidatorSettings {
  rules: GrantRules;
  ownerClaim: string;
  adminScope: string;
}

/**
 * Judges requested grants by what they really give. Reads the graph through the port, then
 * evaluates it without further I/O; holds no state between calls.
 */
export class GrantValidator {
  constructor(
    private readonly reader: GrantGraphReader,
    private readonly settings: GrantValidatorSettings,
  ) {}

  async validate(context: Pick<OperationContext, 'callerScopes'>, realm: string, request: GrantRequest): Promise<GrantVerdict> {
    const graph = await loadGrantGraph(this.reader, realm, request);
    return evaluateGrants(graph, request, {
      ...this.settings,
      scopesBeyondCaller: keysmithScopesBeyondCaller(context, request.scopes, this.settings.adminScope),
    });
  }
}

/** The violations for a message or a log line: `realm:ops → client:realm-management:manage-users: ... is forbidden ...`. */
export function describeViolations(violations: GrantViolation[]): string {
  return violations.map((v) => `${v.path.join(' → ')}: ${v.message}`).join('; ');
}
