import { Injectable } from '@nestjs/common';
import { Random } from '../../common/random/random.js';
import { AppConfig } from '../../config/app-config.js';
import { base62FromBytes } from './base62.js';
import { checksumOf, hasKeyShape, hintOf, parseKey, RANDOM_BYTES, RANDOM_CHARS, type KeyEnvironment, type ParsedKey } from './api-key-format.js';

export interface GeneratedKey {
  key: string;
  hint: string;
}

/**
 * How keys are made and recognised. An injection token: replace the class to change the format
 * without touching the services.
 */
export abstract class ApiKeyGenerationStrategy {
  abstract generate(environment: KeyEnvironment): GeneratedKey;
  /** Structure and checksum only; null when the string cannot be a key of this service. */
  abstract parse(key: string): ParsedKey | null;
  /**
   * A cheap part of `parse` (prefix and length): false only for strings `parse` refuses. A string
   * that passes it and is found among the issued keys needs no `parse`: it was made by `generate`.
   */
  abstract hasShape(key: string): boolean;
}

/** `<prefix><32 CSPRNG bytes in base62><CRC32 in 6 base62>`, with the configured prefixes. */
@Injectable()
export class PrefixedChecksumKeyGeneration extends ApiKeyGenerationStrategy {
  constructor(
    private readonly config: AppConfig,
    private readonly random: Random,
  ) {
    super();
  }

  generate(environment: KeyEnvironment): GeneratedKey {
    const prefix = this.config.apiKeys.prefixes[environment];
    const body = `${prefix}${base62FromBytes(this.random.bytes(RANDOM_BYTES), RANDOM_CHARS)}`;
    const key = `${body}${checksumOf(body)}`;
    return { key, hint: hintOf(key, prefix) };
  }

  parse(key: string): ParsedKey | null {
    return parseKey(key, this.config.apiKeys.prefixes);
  }

  hasShape(key: string): boolean {
    return hasKeyShape(key, this.config.apiKeys.prefixes);
  }
}
