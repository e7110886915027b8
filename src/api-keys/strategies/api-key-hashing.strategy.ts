import { createHmac, hkdfSync, type KeyObject, createSecretKey } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';

/**
 * How keys are stored: a keyed hash per pepper version. An injection token: replace the class to
 * change the algorithm without touching the services.
 */
export abstract class ApiKeyHashingStrategy {
  /** The version new keys are hashed with. */
  abstract readonly currentVersion: number;
  /** Every version lookups try, current first, so keys hashed with an older pepper keep working. */
  abstract readonly versions: readonly number[];
  abstract hash(key: string, version: number): string;
}

/**
 * HMAC-SHA256 with a pepper derived from the master key by HKDF, the version in the HKDF info.
 * Raising KEYSMITH_API_KEY_PEPPER_VERSION introduces a new pepper; keys hashed with an older one
 * are still found (the lookup falls back version by version).
 */
@Injectable()
export class HmacPepperHashing extends ApiKeyHashingStrategy {
  readonly currentVersion: number;
  readonly versions: readonly number[];
  private readonly peppers = new Map<number, KeyObject>();

  constructor(config: AppConfig) {
    super();
    this.currentVersion = config.apiKeys.pepperVersion;
    this.versions = Array.from({ length: this.currentVersion }, (_, i) => this.currentVersion - i);
    for (const version of this.versions) {
      const pepper = Buffer.from(hkdfSync('sha256', config.masterKey, 'keysmith', `keysmith/api-key-pepper/v${version}`, 32));
      this.peppers.set(version, createSecretKey(pepper));
    }
  }

  hash(key: string, version: number): string {
    const pepper = this.peppers.get(version);
    if (!pepper) throw new RangeError(`unknown pepper version ${version}`);
    return createHmac('sha256', pepper).update(key, 'utf8').digest('hex');
  }
}
