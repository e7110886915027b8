import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * A grant is named `realm:<role>`, `client:<clientId>:<role>` or `scope:<name>`. Patterns use `*`
 * for any run of characters, so `client:realm-management:*` names every role of that client.
 * The patterns are matched against every role a grant gives (composites expanded, roles added by
 * client scopes), not only against the names asked for.
 */
export const DEFAULT_DENY = [
  'client:realm-management:*',
  'client:broker:*',
  'client:account:*',
  'realm:admin',
  'realm:offline_access',
  'scope:offline_access',
];

export const grantPolicyFileSchema = z.strictObject({
  /** Replaces the default deny list when given (to widen what may be granted). */
  deny: z.array(z.string().min(1)).optional(),
  /** Added to the deny list (to narrow what may be granted). */
  alsoDeny: z.array(z.string().min(1)).default([]),
  /**
   * Exceptions: a role or scope matching one of these is allowed even when a deny pattern matches,
   * and so is everything it gives (its composites, what a scope adds to tokens).
   */
  allow: z.array(z.string().min(1)).default([]),
  /** Claims (patterns) that mappers of a granted scope may write; token-control claims never. */
  allowClaims: z.array(z.string().min(1)).default([]),
});

export interface GrantRequest {
  realmRoles: string[];
  clientRoles: Record<string, string[]>;
  scopes: string[];
}

/** The guard-rail policy: which roles and scopes Keysmith may grant to a service account. */
export class GrantPolicy {
  private readonly deny: RegExp[];
  private readonly allow: RegExp[];
  /** Claims mappers of a granted scope may write, besides profile claims (see mapper-rules.ts). */
  readonly allowClaims: RegExp[];

  constructor(
    readonly denyPatterns: string[],
    readonly allowPatterns: string[] = [],
    readonly allowClaimPatterns: string[] = [],
  ) {
    this.deny = denyPatterns.map(toRegExp);
    this.allow = allowPatterns.map(toRegExp);
    this.allowClaims = allowClaimPatterns.map(toRegExp);
  }

  /** Whether a deny pattern names this role or scope (`realm:x`, `client:c:x`, `scope:x`). */
  denies(grant: string): boolean {
    return this.deny.some((re) => re.test(grant));
  }

  /** Whether an allow pattern names it: the entitled override. */
  allows(grant: string): boolean {
    return this.allow.some((re) => re.test(grant));
  }

  static load(file: string | undefined, extraDeny: string[]): GrantPolicy {
    if (!file) return new GrantPolicy([...DEFAULT_DENY, ...extraDeny]);
    const parsed = grantPolicyFileSchema.safeParse(parse(readFileSync(file, 'utf8')) ?? {});
    if (!parsed.success) {
      throw new Error(`grant policy file ${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return new GrantPolicy([...(parsed.data.deny ?? DEFAULT_DENY), ...parsed.data.alsoDeny, ...extraDeny], parsed.data.allow, parsed.data.allowClaims);
  }

  /** The grants of `request` that the policy forbids by their names alone (offline: `keysmith validate`). */
  forbidden(request: GrantRequest): string[] {
    const grants = [
      ...request.realmRoles.map((role) => `realm:${role}`),
      ...Object.entries(request.clientRoles).flatMap(([client, roles]) => roles.map((role) => `client:${client}:${role}`)),
      ...request.scopes.map((scope) => `scope:${scope}`),
    ];
    return grants.filter((grant) => this.denies(grant) && !this.allows(grant));
  }
}

function toRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}
