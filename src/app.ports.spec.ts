import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PORT_BINDINGS } from './app.ports.js';
import { bindPort } from './common/ports/bind-port.js';
import { KeycloakProbe } from './health/index.js';

const src = join(process.cwd(), 'src');

/** The abstract classes declared in every feature's `ports/` folder. */
function declaredPorts(): string[] {
  const names: string[] = [];
  for (const feature of readdirSync(src, { withFileTypes: true }).filter((entry) => entry.isDirectory())) {
    const folder = join(src, feature.name, 'ports');
    let files: string[];
    try {
      files = readdirSync(folder).filter((file) => file.endsWith('.port.ts'));
    } catch {
      continue;
    }
    for (const file of files) {
      for (const match of readFileSync(join(folder, file), 'utf8').matchAll(/export abstract class (\w+)/g)) names.push(match[1]);
    }
  }
  return names.sort();
}

describe('port bindings', () => {
  it('binds every port a feature declares, each once', () => {
    const bound = PORT_BINDINGS.map((binding) => (binding.provide as { name: string }).name).sort();
    expect(declaredPorts().length).toBeGreaterThanOrEqual(8);
    expect(bound).toEqual(expect.arrayContaining(declaredPorts()));
    expect(new Set(bound).size).toBe(bound.length);
  });

  it('binds a port to an existing provider, checked by the compiler', () => {
    class Probe {
      baseUrl = 'http://keycloak';
      async ping() {}
    }
    expect(bindPort(KeycloakProbe, Probe)).toEqual({ provide: KeycloakProbe, useExisting: Probe });
    class Unrelated {
      other() {}
    }
    // @ts-expect-error a class that does not fit the port cannot be bound to it
    expect(bindPort(KeycloakProbe, Unrelated).useExisting).toBe(Unrelated);
  });
});
