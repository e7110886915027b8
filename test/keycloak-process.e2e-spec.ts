import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { isKeycloakJava, keycloakCacheDir, keycloakJavaPid } from './support/keycloak-process.js';

// Read-only: finds the process the pause test would stop, without signalling it.
describe('the local Keycloak process (scripts/keycloak.sh)', () => {
  it('resolves the recorded pid to the Java process of the Keycloak in KEYCLOAK_CACHE_DIR', () => {
    const pid = keycloakJavaPid();
    expect(isKeycloakJava(pid)).toBe(true);
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const home = args.find((arg) => arg.startsWith('-Dkc.home.dir='))!.slice('-Dkc.home.dir='.length);
    expect(realpathSync(home).startsWith(realpathSync(keycloakCacheDir()))).toBe(true);
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('java');
    expect(Number(readFileSync(join(keycloakCacheDir(), 'keycloak.pid'), 'utf8'))).toBeGreaterThan(0);
  });
});
