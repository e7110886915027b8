import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, gatewayDir, requireGateway, startGateway, type GatewayProcess } from './processes.js';
import { renderRecipe, type RecipePorts } from './recipes.js';

/** Options a test run needs and a production Caddy does not: no admin endpoint (parallel runs would clash on 2019), plain HTTP. */
const TEST_GLOBAL_OPTIONS = '{\n\tadmin off\n\tauto_https off\n}\n\n';

/**
 * Real Caddy running examples/gateways/Caddyfile (or another recipe, relative to that folder) on a free loopback port, with a writable HOME and
 * XDG folders in a temp folder.
 */
export async function startCaddy(ports: Omit<RecipePorts, 'listen'>, recipe = 'Caddyfile'): Promise<GatewayProcess> {
  requireGateway('caddy');
  const listen = await freePort();
  const dir = gatewayDir('caddy');
  const file = join(dir, 'Caddyfile');
  writeFileSync(file, TEST_GLOBAL_OPTIONS + renderRecipe(recipe, { ...ports, listen }));
  return startGateway('caddy', listen, dir, ['caddy', 'run', '--config', file, '--adapter', 'caddyfile'], {
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CONFIG_HOME: join(dir, 'config'),
  });
}
