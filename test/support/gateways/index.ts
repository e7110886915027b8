/**
 * The shared gateway harness: real nginx and Caddy from Debian (installed by scripts/gateways.sh),
 * each started as an unprivileged process on a free loopback port with the README's recipe from
 * examples/gateways/, a backend that records what it sees, and a client that can speak from any
 * loopback address.
 *
 *   const backend = await startBackend();
 *   const nginx = await startNginx({ keysmith: keysmithPort, backend: backend.port });
 *   await send(`http://127.0.0.1:${nginx.port}/api/x`, { headers: { 'x-api-key': key }, from: '127.0.0.2' });
 *   await nginx.stop();
 */
export { startBackend, type Backend, type SeenRequest } from './backend.js';
export { startCaddy } from './caddy.js';
export { send, type ClientResponse } from './client.js';
export { startNginx } from './nginx.js';
export { freePort, type GatewayProcess } from './processes.js';
export { loadYamlRecipe, RECIPE_ADDRESSES, renderRecipe } from './recipes.js';
