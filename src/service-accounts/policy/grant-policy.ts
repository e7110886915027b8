import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * A grant is named `realm:<role>`, `client:<clientId>:<role>` or `scope:<name>`. Patterns use `*`
 * for any run of characters, so `client:realm-management:*` names every role of that client.
 */
export const DEFAULT_DENY = ['client:realm-management:*', 'client:broker:*', 'client:account:*', 'realm:admin'];

export const grantPolicyFileSchema = z.strictObject({
  /** Replaces the default deny list when given (to widen what may be granted). */
  deny: z.array(z.string().min(1)).optional(),
  /** Added to the deny list (to narrow what may be granted). */
  alsoDeny: z.array(z.string().min(1)).default([]),
  /** Exceptions: grants matching one of these are allowed even when a deny pattern matches. */
  allow: z.array(z.string().min(1)).default([]),
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

  constructor(
    readonly denyPatterns: string[],
    readonly allowPatterns: string[] = [],
  ) {
    this.deny = denyPatterns.map(toRegExp);
    this.allow = allowPatterns.map(toRegExp);
  }

  static load(file: string | undefined, extraDeny: string[]): GrantPolicy {
    if (!file) return new GrantPolicy([...DEFAULT_DENY, ...extraDeny]);
    const parsed = grantPolicyFileSchema.safeParse(parse(readFileSync(file, 'utf8')) ?? {});
    if (!parsed.success) {
      throw new Error(`grant policy file ${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return new GrantPolicy([...(parsed.data.deny ?? DEFAULT_DENY), ...parsed.data.alsoDeny, ...extraDeny], parsed.data.allow);
  }

  /** The grants of `request` that the policy forbids, by name. */
  forbidden(request: GrantRequest): string[] {
    const grants = [
      ...request.realmRoles.map((role) => `realm:${role}`),
      ...Object.entries(request.clientRoles).flatMap(([client, roles]) => roles.map((role) => `client:${client}:${role}`)),
      ...request.scopes.map((scope) => `scope:${scope}`),
    ];
    return grants.filter((grant) => this.deny.some((re) => re.test(grant)) && !this.allow.some((re) => re.test(grant)));
  }
}

function toRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}
