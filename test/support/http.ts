import { harvest, harvestHeaders } from './secret-scan.js';

/** A response as the tests read it. */
export interface TestResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  json<T = any>(): T; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface TestRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  payload?: unknown;
}

/**
 * Sends a real HTTP request over loopback to a listening app. Tests go through the same Fastify
 * server, parsers and hooks as production callers. Every credential sent or received is collected
 * for the suite's log scan (secret-scan.ts).
 */
export async function httpRequest(baseUrl: string, request: TestRequest): Promise<TestResponse> {
  const headers: Record<string, string> = { ...(request.headers ?? {}) };
  let body: string | undefined;
  if (request.payload !== undefined) {
    body = typeof request.payload === 'string' ? request.payload : JSON.stringify(request.payload);
    headers['content-type'] ??= 'application/json';
  }
  harvestHeaders(headers);
  harvest(request.payload);
  const response = await fetch(`${baseUrl}${request.url}`, { method: request.method, headers, body });
  const text = await response.text();
  harvest(text);
  return {
    statusCode: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body: text,
    json: () => JSON.parse(text),
  };
}
