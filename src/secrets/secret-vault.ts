import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Random } from '../common/random/random.js';
import { AppConfig } from '../config/app-config.js';

const VERSION = 'v1';

/**
 * Encrypts client secrets at rest with AES-256-GCM under a key derived (HKDF-SHA256) from the
 * master key. The stored form is `v1.<iv>.<tag>.<ciphertext>` in base64url; the version names the
 * derivation so the key can change later without losing old values.
 */
@Injectable()
export class SecretVault {
  private readonly key: Buffer;

  constructor(
    config: AppConfig,
    private readonly random: Random,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', config.masterKey, Buffer.from('keysmith'), Buffer.from(`keysmith/client-secrets/${VERSION}`), 32));
  }

  encrypt(plaintext: string, associatedData: string): string {
    const iv = this.random.bytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), ciphertext].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  }

  /** Throws when the value was not made by this vault for `associatedData` (tampered, moved or another key). */
  decrypt(stored: string, associatedData: string): string {
    const [version, iv, tag, ciphertext] = stored.split('.');
    if (version !== VERSION || !iv || !tag || ciphertext === undefined) throw new Error('unknown secret format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}
