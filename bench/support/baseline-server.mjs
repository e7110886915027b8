// The baseline: a bare Fastify route doing what Keysmith's fast path must at least do: one
// HMAC-SHA256 with a pepper and one Map lookup. Keys come from the parent over IPC.
import { createHmac, hash as digest, randomBytes } from 'node:crypto';
import Fastify from 'fastify';

const pepper = randomBytes(32);
const hash = (key) => createHmac('sha256', pepper).update(key, 'utf8').digest('hex');
const store = new Map();

const app = Fastify({ logger: false });
app.post('/verify', async (request) => {
  const record = store.get(hash(request.body.key));
  return record ? { valid: true, ...record } : { valid: false, code: 'NOT_FOUND' };
});

// The floor of a verification whose caller holds a JWT: the same request (the token in the
// Authorization header), the token looked up by its SHA-256 (as a cache of verified tokens needs at
// least), then the same HMAC + Map. The token is taken as verified on first sight.
const tokens = new Set();
app.post('/verify-jwt', async (request, reply) => {
  const tokenHash = digest('sha256', request.headers.authorization ?? '', 'base64');
  if (!tokens.has(tokenHash)) {
    if (tokens.size > 0) return reply.code(401).send();
    tokens.add(tokenHash);
  }
  const record = store.get(hash(request.body.key));
  return record ? { valid: true, ...record } : { valid: false, code: 'NOT_FOUND' };
});

app.get('/check', async (request, reply) => {
  const record = store.get(hash(request.headers['x-api-key'] ?? ''));
  if (!record) return reply.code(401).send();
  reply.header('x-auth-client-id', record.clientId).header('x-auth-key-id', record.keyId);
  return '';
});

process.on('message', async (message) => {
  if (message.cmd === 'keys') {
    for (const [i, key] of message.keys.entries()) store.set(hash(key), { keyId: `key_${i}`, realm: 'platform', clientId: 'bench', scopes: ['read:data'] });
    process.send({ cmd: 'keys-done' });
  }
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.send({ cmd: 'ready', port: app.server.address().port });
