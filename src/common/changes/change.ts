/**
 * An event that makes what an instance cached stale, published once and delivered to every
 * instance: a key changed (issued, revoked, rotated, clamped, expired) or an account changed
 * (spec, state, secret, deletion, a change found in Keycloak). `all` is never published: an
 * instance delivers it to itself when it could not follow the feed for longer than it is kept.
 */
export type Change =
  | { kind: 'key'; keyId: string; keyHash: string; realm: string; clientId: string }
  | { kind: 'account'; realm: string; clientId: string };

export type Delivery = Change | { kind: 'all' };

/** Drops what a feature cached; runs synchronously, must not throw and must be idempotent. */
export type ChangeListener = (change: Delivery) => void;

export function keyChange(key: { id: string; keyHash: string; realm: string; clientId: string }): Change {
  return { kind: 'key', keyId: key.id, keyHash: key.keyHash, realm: key.realm, clientId: key.clientId };
}

export function accountChange(realm: string, clientId: string): Change {
  return { kind: 'account', realm, clientId };
}
