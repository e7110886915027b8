import { createServer, type Server } from 'node:net';
import { CliUsageError } from '../../common/cli/cli-command.js';
import { serverUrl } from './gitops-cli.support.js';
import { GitopsServerClient, unreachableReason } from './gitops-server.client.js';

describe('--server', () => {
  it('takes an http or https base URL, with a path prefix, without its trailing slash', () => {
    expect(serverUrl('https://keysmith.example.com/')).toBe('https://keysmith.example.com');
    expect(serverUrl('http://127.0.0.1:8080/keysmith/')).toBe('http://127.0.0.1:8080/keysmith');
  });

  it.each([
    ['keysmith.corp:8080', 'must be an http:// or https:// URL'],
    ['not a url', 'must be an http:// or https:// URL'],
    ['ftp://keysmith.example.com', 'must be an http:// or https:// URL'],
    ['https://ci:hunter2@keysmith.example.com', 'must not hold a user name or password'],
    ['https://keysmith.example.com/?token=abc', 'must not hold a query or a fragment'],
    // An empty query or fragment too: the routes would be appended after it.
    ['https://keysmith.example.com?', 'must not hold a query or a fragment'],
    ['https://keysmith.example.com/keysmith#', 'must not hold a query or a fragment'],
  ])('refuses %s, without repeating it', (value, reason) => {
    const error = (() => {
      try {
        serverUrl(value);
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('accepted');
    })();
    expect(error).toBeInstanceOf(CliUsageError);
    expect(error.message).toContain(`--server: ${reason}`);
    expect(error.message).not.toContain(value);
    expect(error.message).not.toContain('hunter2');
  });
});

describe('GitopsServerClient', () => {
  let closed: Server;
  let port: number;

  beforeAll(async () => {
    // A port that was just free: nothing listens on it once the server is closed.
    closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
  });

  it('says why a server cannot be reached, where fetch says only "fetch failed"', async () => {
    const client = new GitopsServerClient(`http://127.0.0.1:${port}`, 'sk_live_placeholder');
    await expect(client.get('/v1/gitops/sets')).rejects.toThrow(`cannot reach http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
  });
});

describe('unreachableReason', () => {
  it("names fetch's cause, and the first of its errors when the cause says nothing (a host with IPv6 and IPv4 addresses)", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(unreachableReason(new TypeError('fetch failed', { cause: refused }))).toBe('connect ECONNREFUSED 127.0.0.1:9');
    const both = Object.assign(new AggregateError([new Error('connect ECONNREFUSED ::1:9'), new Error('connect ECONNREFUSED 127.0.0.1:9')], ''), { code: 'ECONNREFUSED' });
    expect(unreachableReason(new TypeError('fetch failed', { cause: both }))).toBe('connect ECONNREFUSED ::1:9');
    expect(unreachableReason(new TypeError('fetch failed', { cause: Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' }) }))).toBe('ECONNREFUSED');
    expect(unreachableReason(new TypeError('fetch failed'))).toBe('fetch failed');
  });
});
