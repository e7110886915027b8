import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface Backend {
  port: number;
  /** Every request that reached the backend, in order. */
  seen: SeenRequest[];
  close(): Promise<void>;
}

/**
 * The API behind the gateway: records the headers it sees and answers 200 with them as JSON;
 * `/api/boom` answers 500, to show a gateway passes a backend failure on unchanged.
 */
export async function startBackend(): Promise<Backend> {
  const seen: SeenRequest[] = [];
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
      const status = request.url?.startsWith('/api/boom') ? 500 : 200;
      response.writeHead(status, { 'content-type': 'application/json', 'x-backend': 'yes' });
      response.end(JSON.stringify({ backend: true, status }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
