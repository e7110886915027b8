// The floor under the token-exchange goals: a bare Fastify doing only the transport work that any
// token endpoint in front of Keycloak must do, with no verification, cache or audit.
// - GET /check: an empty 200 with two headers (what forward auth answers);
// - GET /exchange: the same, plus `Authorization: Bearer <the given token>` (what phantom-token
//   forward auth answers);
// - POST /token: reads a form body and answers a token response of the given token's length;
// - POST /forward: reads a form body and makes the client-credentials request to Keycloak
//   (undici, kept-alive connections) with the account given, answering Keycloak's body.
// Set-up over IPC: { cmd: 'setup', token, tokenUrl, clientId, clientSecret }.
import { parse } from 'fast-querystring';
import Fastify from 'fastify';
import { Agent, request as keycloakRequest } from 'undici';

const agent = new Agent({ keepAliveTimeout: 10_000 });
let setup;
const app = Fastify({ logger: false });
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, parse(body)));
app.get('/check', (_request, reply) => {
  reply.header('x-auth-client-id', 'bench').header('x-auth-key-id', 'key_0').send();
});
app.get('/exchange', (_request, reply) => {
  reply.header('x-auth-client-id', 'bench').header('x-auth-key-id', 'key_0').header('authorization', `Bearer ${setup.token}`).header('cache-control', 'no-store').send();
});
app.post('/token', (request, reply) => {
  if (request.body.subject_token === undefined) return reply.code(400).send({ error: 'invalid_request' });
  reply
    .header('cache-control', 'no-store')
    .type('application/json')
    .send(JSON.stringify({ access_token: setup.token, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: 300, scope: 'read:data' }));
});
app.post('/forward', async (request, reply) => {
  if (request.body.subject_token === undefined) return reply.code(400).send({ error: 'invalid_request' });
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: setup.clientId, client_secret: setup.clientSecret }).toString();
  const res = await keycloakRequest(setup.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form, dispatcher: agent });
  reply.code(res.statusCode).header('cache-control', 'no-store').type('application/json').send(await res.body.text());
});

process.on('message', (message) => {
  if (message.cmd === 'setup') {
    setup = message;
    process.send({ cmd: 'ready-setup' });
  }
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.send({ cmd: 'ready', port: app.server.address().port });
