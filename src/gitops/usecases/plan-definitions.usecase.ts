import { Injectable } from '@nestjs/common';
import pLimit from 'p-limit';
import { AppConfig } from '../../config/app-config.js';
import { detailOf, DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { ServiceAccountSpec } from '../../service-accounts/index.js';
import type { ClientSummaries, ServiceAccountView } from '../../service-accounts/index.js';
import { GitopsAccounts, type AccountChange } from '../ports/gitops-accounts.port.js';
import { setTransition } from '../../service-accounts/index.js';
import type { AccountPlan, AccountRef, GitopsPlan } from '../gitops.types.js';
import { accountKey, assertSetOptions, desiredSpec, realmsOf, setRequestOf, type BundleOptions, type DesiredAccount } from './desired-accounts.js';
import { selectPrune, type PruneSelection } from './prune-selection.js';

/** How many accounts are planned at once; Keycloak calls are bounded again by the Keycloak module. */
const PLAN_CONCURRENCY = 16;

/**
 * Computes what apply would do for a bundle of definitions, without writing anything: per account
 * created, changed field by field, moved between sets, or deleted (with prune, only accounts of the
 * bundle's own set), with guard-rail violations and set conflicts flagged. Uses the
 * service-accounts feature's own change computation, the one PUT applies.
 */
@Injectable()
export class PlanDefinitionsUseCase {
  constructor(
    private readonly accounts: GitopsAccounts,
    private readonly config: AppConfig,
  ) {}

  async execute(desired: DesiredAccount[], options: BundleOptions): Promise<GitopsPlan> {
    assertSetOptions(options);
    const existing = await this.existingAccounts(desired, options);
    const clients = options.refresh ? undefined : await this.clientLists(desired, options);
    const limit = pLimit(PLAN_CONCURRENCY);
    const planned = await Promise.all(desired.map((item) => limit(() => this.planOne(item, existing, options, clients))));
    const detailed = planned.filter((p) => p.detailed).length;
    const { candidates, unassigned } = this.pruneSelection(desired, existing, options);
    const accounts = [
      ...planned,
      ...(options.prune ? candidates.map((account) => deletionPlan(account)) : []),
    ].sort((a, b) => a.realm.localeCompare(b.realm) || a.clientId.localeCompare(b.clientId));
    const read = { mode: options.refresh ? ('full-refresh' as const) : ('summary' as const), detailed };
    return { ...summarise(options.set ?? null, accounts.map(withoutDetailed), options.prune ? [] : candidates.map(ref), unassigned.map(ref)), read };
  }

  /**
   * The client list of every managed realm the definitions name, summarised (plans and applies in
   * `summary` mode); with `existing`, only of the realms where a definition names an existing account.
   */
  async clientLists(desired: DesiredAccount[], options: BundleOptions, existing?: Map<string, ServiceAccountView>): Promise<Map<string, ClientSummaries>> {
    const named = existing ? desired.filter((d) => existing.has(accountKey(d.definition.metadata.realm, d.definition.metadata.name))) : desired;
    const realms = realmsOf(named, { ...options, realms: [] }).filter((realm) => this.config.isManagedRealm(realm));
    return new Map(await Promise.all(realms.map(async (realm) => [realm, await this.accounts.clientSummaries(realm)] as const)));
  }

  /** The accounts Keysmith holds in every managed realm the bundle touches, by realm/clientId. */
  async existingAccounts(desired: DesiredAccount[], options: BundleOptions): Promise<Map<string, ServiceAccountView>> {
    const realms = realmsOf(desired, options).filter((realm) => this.config.isManagedRealm(realm));
    const lists = await Promise.all(realms.map((realm) => this.accounts.listAll(realm)));
    return new Map(lists.flat().map((account) => [accountKey(account.realm, account.clientId), account]));
  }

  /** Accounts of the bundle's own set that no definition names (deleted with prune), and unassigned ones. */
  pruneSelection(desired: DesiredAccount[], existing: Map<string, ServiceAccountView>, options: BundleOptions): PruneSelection {
    const wanted = new Set(desired.map((d) => accountKey(d.definition.metadata.realm, d.definition.metadata.name)));
    return selectPrune(existing.values(), wanted, { set: options.set ?? null, owner: options.owner ?? null });
  }

  private async planOne(
    item: DesiredAccount,
    existing: Map<string, ServiceAccountView>,
    options: BundleOptions,
    clients: Map<string, ClientSummaries> | undefined,
  ): Promise<AccountPlan & { detailed?: boolean }> {
    const { realm, name: clientId, owner } = item.definition.metadata;
    const spec = desiredSpec(item.definition);
    const base = { realm, clientId, ...(item.definedAt ? { definedAt: item.definedAt } : {}) };
    try {
      if (options.owner && owner !== options.owner) {
        throw new DomainError(ErrorCode.OwnerForbidden, `You may only manage service accounts owned by ${options.owner}.`);
      }
      const current = existing.get(accountKey(realm, clientId));
      // Another owner's account answers as on every route (as apply does): not found, and nothing of it shown.
      if (options.owner && current && current.owner !== options.owner) {
        throw new DomainError(ErrorCode.ServiceAccountNotFound, `No service account ${clientId} in realm ${realm}.`, { clientId });
      }
      const transition = current ? setTransition(current, setRequestOf(options)) : undefined;
      if (transition?.kind === 'conflict') throw new DomainError(ErrorCode.SetConflict, transition.detail);
      const realmClients = clients ? (clients.get(realm) ?? new Map()) : undefined;
      const result = await this.accounts.plan(realm, clientId, spec, { callerScopes: options.callerScopes ?? null }, realmClients);
      const joins = !current ? (options.set ? { from: null, to: options.set } : undefined) : transition?.kind === 'move' ? { from: transition.from, to: transition.to } : undefined;
      return {
        ...base,
        action: result.action,
        detailed: result.detailed,
        changes: result.action === 'create' ? creationChanges(spec) : result.changes,
        forbidden: result.forbidden,
        violations: result.violations,
        ...(current && current.managedBy !== 'gitops' ? { adopt: true } : {}),
        ...(joins ? { setChange: joins } : {}),
        ...(transition?.kind === 'unassigned' ? { unassigned: true } : {}),
      };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return { ...base, action: 'error', changes: [], forbidden: [], violations: [], error: { code: error.code, detail: detailOf(error) } };
    }
  }
}

const ref = ({ realm, clientId }: ServiceAccountView): AccountRef => ({ realm, clientId });

function withoutDetailed({ detailed: _detailed, ...plan }: AccountPlan & { detailed?: boolean }): AccountPlan {
  return plan;
}

/** A create as a change list: every field the new account gets. */
export function creationChanges(spec: ServiceAccountSpec): AccountChange[] {
  const set = (field: string, to: unknown): AccountChange => ({ field, action: 'set', from: null, to });
  const add = (field: string, values: string[]) => [...values].sort().map((value): AccountChange => ({ field, action: 'add', value }));
  return [
    set('owner', spec.owner),
    ...(spec.description ? [set('description', spec.description)] : []),
    set('enabled', spec.enabled),
    ...add('realmRoles', spec.realmRoles),
    ...Object.keys(spec.clientRoles).sort().flatMap((client) => add(`clientRoles.${client}`, spec.clientRoles[client])),
    ...add('defaultScopes', spec.defaultScopes),
    ...add('optionalScopes', spec.optionalScopes),
    set('secretRotation.everyDays', spec.secretRotation.everyDays),
    set('secretRotation.graceHours', spec.secretRotation.graceHours),
    set('apiKeyPolicy.defaultTtlDays', spec.apiKeyPolicy.defaultTtlDays),
    set('apiKeyPolicy.maxTtlDays', spec.apiKeyPolicy.maxTtlDays),
    set('apiKeyPolicy.rateLimit', spec.apiKeyPolicy.rateLimit),
    ...(spec.apiKeyPolicy.tokenExchange ? [set('apiKeyPolicy.tokenExchange', true)] : []),
  ];
}

function deletionPlan(account: ServiceAccountView): AccountPlan {
  return { realm: account.realm, clientId: account.clientId, action: 'delete', changes: [], forbidden: [], violations: [] };
}

export function summarise(set: string | null, accounts: AccountPlan[], notPruned: AccountRef[], unassigned: AccountRef[]): Omit<GitopsPlan, 'read'> {
  const count = (action: AccountPlan['action']) => accounts.filter((a) => a.action === action).length;
  const summary = {
    create: count('create'),
    update: count('update'),
    delete: count('delete'),
    noop: count('noop'),
    forbidden: accounts.filter((a) => a.forbidden.length > 0).length,
    errors: count('error'),
  };
  const hasChanges = summary.create + summary.update + summary.delete > 0 || accounts.some((a) => a.adopt || a.setChange);
  return { set, accounts, notPruned, unassigned, summary, hasChanges };
}
