import type { ArgumentsHost } from '@nestjs/common';
import { DomainError, type ConvertibleToDomainError } from './domain-error.js';
import { ErrorCode } from './error-code.js';
import { ProblemDetailsFilter } from './problem-details.filter.js';

/** Captures what the filter sends, through the minimum of Fastify's reply it uses. */
function render(error: unknown, filter = new ProblemDetailsFilter()) {
  const sent: { status?: number; type?: string; headers?: Record<string, string>; body?: Record<string, unknown> } = {};
  const reply = {
    status(code: number) {
      sent.status = code;
      return reply;
    },
    headers(headers: Record<string, string>) {
      sent.headers = headers;
      return reply;
    },
    type(type: string) {
      sent.type = type;
      return reply;
    },
    send(body: Record<string, unknown>) {
      sent.body = body;
      return reply;
    },
  };
  const host = { switchToHttp: () => ({ getRequest: () => ({ id: 'req-1' }), getResponse: () => reply }) } as unknown as ArgumentsHost;
  filter.catch(error, host);
  return sent;
}

describe('ProblemDetailsFilter', () => {
  it('renders a domain error with its code, status, extensions and headers', () => {
    const sent = render(new DomainError(ErrorCode.RateLimited, 'slow down', { retryAfterSeconds: 3 }, { 'retry-after': '3' }));
    expect(sent).toMatchObject({ status: 429, type: 'application/problem+json', headers: { 'retry-after': '3' } });
    expect(sent.body).toMatchObject({ code: 'RATE_LIMITED', status: 429, detail: 'slow down', requestId: 'req-1', retryAfterSeconds: 3 });
  });

  it('renders an error that converts itself (an unhandled Keycloak answer) by its domain error, not as a 500', () => {
    // Shaped like the Keycloak integration's KeycloakHttpError: common/ knows no feature.
    class UpstreamRejected extends Error implements ConvertibleToDomainError {
      toDomainError(): DomainError {
        return new DomainError(ErrorCode.KeycloakRejected, 'Keycloak answered 400 to update client: invalid redirect uri', { keycloakStatus: 400 });
      }
    }
    const sent = render(new UpstreamRejected('Keycloak answered 400'));
    expect(sent.status).toBe(502);
    expect(sent.body).toMatchObject({ code: 'KEYCLOAK_REJECTED', keycloakStatus: 400, detail: expect.stringContaining('update client') });
  });

  it('hides the message of an unknown error behind a generic 500', () => {
    const sent = render(new Error('database password is hunter2'));
    expect(sent.status).toBe(500);
    expect(sent.body).toMatchObject({ code: 'INTERNAL', requestId: 'req-1' });
    expect(JSON.stringify(sent.body)).not.toContain('hunter2');
  });

  it('leaves an error to the answer a route has of its own, and renders the others as problem+json', () => {
    const seen: unknown[] = [];
    const filter = new ProblemDetailsFilter((error) => (error instanceof RangeError ? (own) => void seen.push(own) : undefined));
    const own = new RangeError('answered elsewhere');
    expect(render(own, filter)).toEqual({});
    expect(seen).toEqual([own]);
    expect(render(new DomainError(ErrorCode.RateLimited, 'slow down'), filter)).toMatchObject({ status: 429, type: 'application/problem+json' });
  });
});
