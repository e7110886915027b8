import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { KeycloakClientsGateway } from '../../keycloak/index.js';
import { SecretVault } from '../../secrets/index.js';
import { ServiceAccountEntity } from '../entities/service-account.entity.js';

/** What trading a key for a token needs to know about the key's account. */
export interface ExchangeAccount {
  realm: string;
  clientId: string;
  enabled: boolean;
  tokenExchange: boolean;
  defaultScopes: string[];
  optionalScopes: string[];
  /** The current client secret; not enumerable, so logging or serialising the object never prints it. */
  readonly clientSecret: string;
}

/**
 * The credentials of a service account for acting as it (token exchange). Internal: no owner
 * check and no audit here; the caller audits the use. Never exposed through the API.
 */
@Injectable()
export class ServiceAccountCredentials {
  constructor(
    @InjectRepository(ServiceAccountEntity) private readonly accounts: Repository<ServiceAccountEntity>,
    private readonly vault: SecretVault,
    private readonly gateway: KeycloakClientsGateway,
  ) {}

  /**
   * The live, fully provisioned account with its current secret (the one stored last; during a
   * rotation's grace window Keycloak still accepts the previous one too); null when there is none.
   */
  async forExchange(realm: string, clientId: string): Promise<ExchangeAccount | null> {
    const row = await this.accounts.findOne({ where: { realm, clientId, deletedAt: IsNull() } });
    if (!row || !row.keycloakId || (row.state !== 'ready' && row.state !== 'updating')) return null;
    const clientSecret = row.secretCiphertext
      ? this.vault.decrypt(row.secretCiphertext, row.id)
      : await this.gateway.clientSecret(realm, clientId);
    return withSecret(baseOf(row), clientSecret);
  }

  /**
   * The secret Keycloak holds now: a rotation in another process may have changed it before
   * storing it (without a grace window, the stored one then stops working at once).
   */
  async freshFromKeycloak(account: ExchangeAccount): Promise<ExchangeAccount> {
    return withSecret({ ...account }, await this.gateway.clientSecret(account.realm, account.clientId));
  }
}

function withSecret(base: Omit<ExchangeAccount, 'clientSecret'>, clientSecret: string): ExchangeAccount {
  const account = { ...base } as ExchangeAccount;
  Object.defineProperty(account, 'clientSecret', { value: clientSecret, enumerable: false });
  return account;
}

function baseOf(row: ServiceAccountEntity): Omit<ExchangeAccount, 'clientSecret'> {
  return {
    realm: row.realm,
    clientId: row.clientId,
    enabled: row.enabled,
    tokenExchange: row.keyTokenExchange,
    defaultScopes: [...row.defaultScopes],
    optionalScopes: [...row.optionalScopes],
  };
}
