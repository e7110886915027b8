import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, gatewayDir, giveToGateway, requireGateway, startGateway, type GatewayProcess } from './processes.js';
import { renderRecipe, type RecipePorts } from './recipes.js';

/**
 * Real nginx running examples/gateways/nginx.conf (or another recipe, relative to that folder): a main configuration with every path in a
 * temp folder (pid, temp paths; errors on stderr) includes the rendered recipe, and nginx runs in
 * the foreground (`-e stderr -g 'daemon off;'`) on a free loopback port.
 */
export async function startNginx(ports: Omit<RecipePorts, 'listen'>, recipe = 'nginx.conf'): Promise<GatewayProcess> {
  requireGateway('nginx');
  const listen = await freePort();
  const dir = gatewayDir('nginx');
  const temp = (name: string) => {
    const path = join(dir, name);
    mkdirSync(path);
    giveToGateway(path);
    return path;
  };
  const site = join(dir, 'keysmith.conf');
  writeFileSync(site, renderRecipe(recipe, { ...ports, listen }));
  const main = join(dir, 'nginx.conf');
  writeFileSync(
    main,
    [
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      'error_log stderr warn;',
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${temp('client_body')};`,
      `  proxy_temp_path ${temp('proxy')};`,
      `  fastcgi_temp_path ${temp('fastcgi')};`,
      `  uwsgi_temp_path ${temp('uwsgi')};`,
      `  scgi_temp_path ${temp('scgi')};`,
      `  include ${site};`,
      '}',
      '',
    ].join('\n'),
  );
  return startGateway('nginx', listen, dir, ['nginx', '-p', dir, '-c', main, '-e', 'stderr', '-g', 'daemon off;']);
}
