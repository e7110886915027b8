import { Random } from '../common/random/random.js';
import { loadConfig } from '../config/app-config.js';
import { SecretVault } from './secret-vault.js';

const config = (key: string) => loadConfig({ KEYCLOAK_CLIENT_SECRET: 'x-secret-x', KEYSMITH_MASTER_KEY: key });

describe('SecretVault', () => {
  const vault = new SecretVault(config('11'.repeat(32)), new Random());

  it('round-trips a secret and never stores it in plain text', () => {
    const stored = vault.encrypt('client-secret-value', 'sa_1');
    expect(stored.startsWith('v1.')).toBe(true);
    expect(stored).not.toContain('client-secret-value');
    expect(vault.decrypt(stored, 'sa_1')).toBe('client-secret-value');
  });

  it('uses a fresh IV each time', () => {
    expect(vault.encrypt('same', 'sa_1')).not.toBe(vault.encrypt('same', 'sa_1'));
  });

  it('refuses a value bound to another account, tampered, or under another master key', () => {
    const stored = vault.encrypt('client-secret-value', 'sa_1');
    expect(() => vault.decrypt(stored, 'sa_2')).toThrow();
    const parts = stored.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => vault.decrypt(parts.join('.'), 'sa_1')).toThrow();
    expect(() => new SecretVault(config('22'.repeat(32)), new Random()).decrypt(stored, 'sa_1')).toThrow();
  });
});
