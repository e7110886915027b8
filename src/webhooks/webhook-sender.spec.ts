import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Clock } from '../common/time/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { isDelivered } from './webhook-retry.js';
import { SIGNATURE_HEADER, WebhookSender } from './webhook-sender.js';

// The sender against a real HTTP server on loopback: what one attempt sends, and what counts as delivered.
describe('WebhookSender', () => {
  let server: Server;
  let base: string;
  const seen: { method: string; url: string; body: string; signature: string | undefined }[] = [];
  const config = { webhooks: { secret: 'x'.repeat(16), timeoutMs: 2_000 } } as unknown as AppConfig;
  const sender = new WebhookSender(config, new Clock());
  const webhook = (path: string) => ({ eventId: 'evt_1', event: 'api_key.expiring', url: `${base}${path}`, body: '{"keyId":"key_1"}' });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, body, signature: req.headers[SIGNATURE_HEADER] as string | undefined });
        if (req.url === '/moved') res.writeHead(301, { location: '/landing' }).end();
        else if (req.url === '/elsewhere') res.writeHead(307, { location: '/landing' }).end();
        else res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
  });

  it('POSTs the signed body; a 2xx delivers', async () => {
    const result = await sender.send(webhook('/hook'));
    expect(result).toEqual({ status: 204, error: null });
    expect(isDelivered(result)).toBe(true);
    expect(seen).toEqual([{ method: 'POST', url: '/hook', body: '{"keyId":"key_1"}', signature: expect.stringMatching(/^t=\d+,v1=[0-9a-f]{64}$/) }]);
  });

  it.each([
    ['/moved', 301],
    ['/elsewhere', 307],
  ])('does not follow a redirect (%s answers %i): the attempt fails with that status and nothing goes to the new location', async (path, status) => {
    const result = await sender.send(webhook(path));
    expect(result).toEqual({ status, error: null });
    expect(isDelivered(result)).toBe(false);
    expect(seen.map((request) => request.url)).toEqual([path]);
  });
});
