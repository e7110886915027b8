/** What a key may ask Keycloak for, and what Keycloak will add regardless. */
export interface ScopeInputs {
  /** The `scope` parameter, split; undefined when absent (then: every scope the key holds). */
  requested: string[] | undefined;
  /** The key's effective scopes. */
  keyScopes: string[];
  /** The account's default client scopes (Keycloak adds them to every token). */
  defaultScopes: string[];
  /** The account's optional client scopes (Keycloak adds them when asked). */
  optionalScopes: string[];
  /** Scopes every account gets (`basic`, `roles`, `service_account`): exempt from all checks. */
  baseScopes: string[];
}

export type ScopePlan =
  | { ok: true; wanted: string[]; keycloakScope: string }
  | { ok: false; scopes: string[]; description: string };

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/**
 * Decides the scopes of an exchanged token before asking Keycloak. Keycloak can add an optional
 * scope on request but never leaves out a default one, so a token without a default scope the
 * key lacks (or was asked to leave out) cannot be had: that is refused, naming the scopes.
 */
export function planScopes(input: ScopeInputs): ScopePlan {
  const base = new Set(input.baseScopes);
  const held = new Set(input.keyScopes);
  const wanted = sorted((input.requested ?? input.keyScopes).filter((scope) => !base.has(scope)));
  const notHeld = wanted.filter((scope) => !held.has(scope));
  if (notHeld.length) return refuse(notHeld, `The key does not hold the scope${plural(notHeld)} ${notHeld.join(' ')}.`);

  const optional = new Set(input.optionalScopes);
  const defaults = new Set(input.defaultScopes);
  const unknown = wanted.filter((scope) => !optional.has(scope) && !defaults.has(scope));
  if (unknown.length) return refuse(unknown, `The key's service account no longer has the scope${plural(unknown)} ${unknown.join(' ')}.`);

  const forced = sorted(input.defaultScopes.filter((scope) => !base.has(scope) && !wanted.includes(scope)));
  if (forced.length) {
    const one = forced.length === 1;
    const why = forced.every((scope) => held.has(scope)) ? `${one ? 'it was' : 'they were'} not requested` : one ? 'the key does not hold it' : 'the key does not hold all of them';
    return refuse(
      forced,
      `Keycloak adds the account's default scope${plural(forced)} ${forced.join(' ')} to every token, but ${why}. ` +
        'Make scopes that keys may leave out optional scopes of the account.',
    );
  }
  return { ok: true, wanted, keycloakScope: wanted.filter((scope) => optional.has(scope)).join(' ') };
}

/** Scopes in Keycloak's answer beyond those wanted (ignoring base scopes): a token that must not be handed out. */
export function unexpectedScopes(granted: string[], wanted: string[], baseScopes: string[]): string[] {
  return sorted(granted.filter((scope) => !wanted.includes(scope) && !baseScopes.includes(scope)));
}

export function splitScopes(value: string | undefined): string[] {
  return (value ?? '').split(' ').filter(Boolean);
}

function refuse(scopes: string[], description: string): ScopePlan {
  return { ok: false, scopes, description };
}

function plural(list: string[]): string {
  return list.length === 1 ? '' : 's';
}
