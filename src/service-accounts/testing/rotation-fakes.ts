import type { RotationKeycloakPort, RotationVaultPort } from '../usecases/rotate-secret/rotation.ports.js';

// Stand-ins for the secret-rotation machine's ports, shared by the unit tests of rotation and of the secret health check.

/** Keycloak's secrets of one client as its rotation executor keeps them: a current one and at most one rotated one. */
export class FakeRotationKeycloak implements RotationKeycloakPort {
  current = 'secret-0';
  rotated: string | null = null;
  regenerations = 0;
  writes = 0;
  private counter = 0;

  async currentSecret(): Promise<string> {
    return this.current;
  }

  async rotatedSecret(): Promise<string | null> {
    return this.rotated;
  }

  async regenerate(): Promise<string> {
    this.regenerations += 1;
    this.executorRegenerates();
    return this.current;
  }

  /** What the executor does by itself on an admin update once the secret expired. */
  executorRegenerates(): void {
    this.writes += 1;
    this.rotated = this.current;
    this.counter += 1;
    this.current = `secret-${this.counter}-${Math.random().toString(36).slice(2, 8)}`;
  }

  async invalidateRotated(): Promise<void> {
    this.writes += 1;
    this.rotated = null;
  }

  async accepts(_realm: string, _clientId: string, secret: string): Promise<boolean> {
    return secret === this.current || (this.rotated !== null && secret === this.rotated);
  }
}

/** Encryption that shows what it holds: enough for the machine, which only stores and reads back. */
export const fakeVault: RotationVaultPort = {
  encrypt: (secret, id) => `enc(${id}):${secret}`,
  decrypt: (ciphertext, id) => ciphertext.slice(`enc(${id}):`.length),
};
