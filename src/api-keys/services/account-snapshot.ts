import type { ServiceAccountView } from '../../service-accounts/index.js';

/** What verification needs to know about a key's service account. */
export interface AccountSnapshot {
  enabled: boolean;
  owner: string;
  rateLimit: ServiceAccountView['apiKeyPolicy']['rateLimit'];
  /** The account's current default and optional scopes, less those removed in Keycloak. */
  scopes: string[];
}

/**
 * The snapshot of an account as verification judges keys by it: the one place that builds it, so
 * whatever else decides whether an account's keys pass is added here.
 */
export function accountSnapshotOf(view: ServiceAccountView): AccountSnapshot {
  // `effective`: a client disabled or deleted in Keycloak refuses its keys, scopes removed there are lost.
  return { enabled: view.effective.enabled, owner: view.owner, rateLimit: view.apiKeyPolicy.rateLimit, scopes: view.effective.scopes };
}
