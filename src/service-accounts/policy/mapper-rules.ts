import type { MapperNode } from '../../common/grants/grant-graph.js';

/**
 * The allow-list of protocol mappers a granted client scope may carry. A mapper whose type is not
 * listed is refused; so is one writing a claim that is not allowed for it.
 *
 * - `fixed`: writes only its own claim, derived from what Keycloak already decided (audience,
 *   allowed origins, acr, sub).
 * - `role`: adds a role to tokens (`oidc-hardcoded-role-mapper`); judged by that role.
 * - `reflects`: copies the account's own user or session data into a claim; the claim must be a
 *   profile claim or one the policy allows, and never a token-control claim.
 * - `roles`: copies the account's own roles; allowed into their standard claim.
 * - `hardcoded`: writes a literal value; the claim must be one the policy allows (`allowClaims`),
 *   and never a token-control claim.
 */
export type MapperKind = 'fixed' | 'role' | 'reflects' | 'roles' | 'hardcoded';

export const ALLOWED_MAPPER_TYPES: Readonly<Record<string, MapperKind>> = {
  'oidc-audience-mapper': 'fixed',
  'oidc-audience-resolve-mapper': 'fixed',
  'oidc-allowed-origins-mapper': 'fixed',
  'oidc-acr-mapper': 'fixed',
  'oidc-sub-mapper': 'fixed',
  'oidc-hardcoded-role-mapper': 'role',
  'oidc-hardcoded-claim-mapper': 'hardcoded',
  'oidc-usermodel-attribute-mapper': 'reflects',
  'oidc-usermodel-property-mapper': 'reflects',
  'oidc-usersessionmodel-note-mapper': 'reflects',
  'oidc-full-name-mapper': 'reflects',
  'oidc-address-mapper': 'reflects',
  'oidc-usermodel-realm-role-mapper': 'roles',
  'oidc-usermodel-client-role-mapper': 'roles',
};

/**
 * Claims that decide what a token may do or who it is: no mapper of a granted scope may write
 * them (the owner claim is added by the policy). Compared on the claim's first segment.
 */
export const TOKEN_CONTROL_CLAIMS = [
  'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'typ', 'azp', 'scope', 'scp', 'realm_access', 'resource_access',
  'client_id', 'clientId', 'sid', 'session_state', 'acr', 'amr', 'auth_time', 'nonce', 'cnf', 'act', 'may_act',
  'allowed-origins', 'authorization', 'trusted-certs', 'roles', 'groups', 'permissions',
];

/** Profile claims a reflecting mapper may write: the account's own, descriptive data. */
export const PROFILE_CLAIMS = [
  'name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture',
  'website', 'email', 'email_verified', 'gender', 'birthdate', 'zoneinfo', 'locale', 'phone_number',
  'phone_number_verified', 'address', 'updated_at', 'clientHost', 'clientAddress',
];

const STANDARD_ROLE_CLAIMS: Record<string, RegExp> = {
  'oidc-usermodel-realm-role-mapper': /^realm_access\.roles$/,
  'oidc-usermodel-client-role-mapper': /^resource_access\.\$\{client_id\}\.roles$/,
};

export interface MapperRuleSettings {
  /** The owner claim (KEYSMITH_OWNER_CLAIM): a token-control claim too. */
  ownerClaim: string;
  /** Claims the policy allows mappers to write (patterns with `*`), besides profile claims for reflecting mappers. */
  allowClaims: RegExp[];
}

/** What a mapper adds, or why it is refused. */
export type MapperVerdict = { ok: true } | { ok: true; addsRole: true } | { ok: false; message: string };

export function judgeMapper(mapper: MapperNode, settings: MapperRuleSettings): MapperVerdict {
  const kind = ALLOWED_MAPPER_TYPES[mapper.type];
  if (!kind) return { ok: false, message: `mapper type ${mapper.type} is not on the allow-list` };
  if (kind === 'fixed') return { ok: true };
  if (kind === 'role') return { ok: true, addsRole: true };
  const claim = mapper.config['claim.name'];
  if (typeof claim !== 'string' || claim.trim() === '') {
    return kind === 'reflects' && mapper.type !== 'oidc-usermodel-attribute-mapper' && mapper.type !== 'oidc-usermodel-property-mapper'
      ? { ok: true }
      : { ok: false, message: `mapper ${mapper.name} (${mapper.type}) names no claim Keysmith can judge` };
  }
  const first = firstSegment(claim);
  if (kind === 'roles' && STANDARD_ROLE_CLAIMS[mapper.type]?.test(claim.trim())) return { ok: true };
  const control = [...TOKEN_CONTROL_CLAIMS, settings.ownerClaim].map((c) => c.toLowerCase());
  if (control.includes(first.toLowerCase()) || control.includes(claim.trim().toLowerCase())) {
    return { ok: false, message: `mapper ${mapper.name} (${mapper.type}) writes the token-control claim ${claim}` };
  }
  const allowed = settings.allowClaims.some((re) => re.test(claim.trim()) || re.test(first));
  if (allowed) return { ok: true };
  if (kind === 'reflects' && PROFILE_CLAIMS.includes(first)) return { ok: true };
  return { ok: false, message: `mapper ${mapper.name} (${mapper.type}) writes the claim ${claim}, which is not on the allow-list` };
}

/** The top-level claim a Keycloak claim name writes: `a.b` nests under `a`; `a\.b` is one name. */
export function firstSegment(claim: string): string {
  const trimmed = claim.trim();
  const match = /^((?:[^.\\]|\\.)*)/.exec(trimmed);
  return (match?.[1] ?? trimmed).replace(/\\\./g, '.');
}
