import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { noteForAccessLog } from '../logging/access-log.js';
import { DomainError, isConvertibleToDomainError } from './domain-error.js';
import { ERROR_CATALOG, ErrorCode } from './error-code.js';
import type { HotReply, HotRequest } from '../http/hot-request.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  instance?: string;
  [extension: string]: unknown;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: ErrorCode.MalformedRequest,
  404: ErrorCode.NotFound,
  405: ErrorCode.MethodNotAllowed,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  429: ErrorCode.RateLimited,
};

/** Builds the problem body for a code; used by the filter and by handlers that answer directly. */
export function problemFor(
  code: ErrorCode,
  detail: string,
  requestId: string,
  extensions: Record<string, unknown> = {},
): ProblemBody {
  const { status, title } = ERROR_CATALOG[code];
  return {
    type: `https://keysmith.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title,
    status,
    detail,
    code,
    requestId,
    ...extensions,
  };
}

/** Answers an error in a route's own format instead of problem+json. */
export type ErrorAnswer = (error: unknown, request: HotRequest, reply: HotReply) => void;

/**
 * The one place where errors become HTTP responses: DomainErrors keep their code, framework and
 * Fastify errors get the matching 4xx code, anything else is a generic 500 logged with its stack.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  /**
   * `ownAnswer`: for a route whose errors have another format by contract (the OAuth token
   * endpoint), the answer to use for `error`; undefined for problem+json.
   */
  constructor(private readonly ownAnswer: (error: unknown, request: HotRequest) => ErrorAnswer | undefined = () => undefined) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.answer(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }

  /** Answers `error` as problem+json; also used by the hot-path routes, which bypass Nest's filters. */
  answer(error: unknown, request: HotRequest, reply: HotReply): void {
    const own = this.ownAnswer(error, request);
    if (own) return own(error, request, reply);
    const { body, headers } = this.toProblem(error, String(request.id));
    noteForAccessLog(request, { code: body.code });
    if (body.status >= 500 && body.code !== ErrorCode.Internal) this.logger.warn({ code: body.code, requestId: body.requestId }, `${body.code}: ${body.detail}`);
    void reply.status(body.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(body);
  }

  private toProblem(error: unknown, requestId: string): { body: ProblemBody; headers: Record<string, string> } {
    if (error instanceof DomainError) {
      return { body: problemFor(error.code, error.detail, requestId, error.extensions), headers: error.headers };
    }
    if (isConvertibleToDomainError(error)) {
      this.logger.warn(String((error as unknown as Error).message));
      return this.toProblem(error.toDomainError(), requestId);
    }
    const status = statusOf(error);
    if (status !== undefined && status >= 400 && status < 500) {
      const code = STATUS_CODES[status] ?? ErrorCode.MalformedRequest;
      const body = problemFor(code, clientMessage(error, status), requestId);
      body.status = status;
      return { body, headers: {} };
    }
    this.logger.error({ err: error, requestId }, 'Unhandled error');
    return {
      body: problemFor(ErrorCode.Internal, 'An unexpected error occurred. Quote the requestId when reporting it.', requestId),
      headers: {},
    };
  }
}

/** The HTTP status an error carries (Nest's HttpException, Fastify's errors), if any. */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof HttpException) return error.getStatus();
  const candidate = (error as { statusCode?: unknown })?.statusCode;
  return typeof candidate === 'number' ? candidate : undefined;
}

function clientMessage(error: unknown, status: number): string {
  if (error instanceof HttpException) {
    if (status === 404) return 'No route matches this method and path.';
    const response = error.getResponse();
    if (typeof response === 'string') return response;
    const message = (response as { message?: unknown }).message;
    return typeof message === 'string' ? message : error.message;
  }
  // Fastify's own errors (bad JSON, wrong content type, body too large) carry safe messages.
  return (error as Error).message ?? 'Bad request';
}
