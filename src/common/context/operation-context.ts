import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Actor } from './actor.js';


/** The authenticated caller of Keysmith's own API, put on the request by the auth guard. */
export interface Principal {
  method: 'jwt' | 'api-key';
  subject: string;
  scopes: string[];
  realm: string | null;
  /** Set when the caller is confined to one owner's service accounts and keys. */
  owner: string | null;
}

/**
 * Who is acting and why, passed explicitly from controllers, jobs and the CLI down to the
 * services, which stamp it on audit events.
 */
export interface OperationContext {
  actor: Actor;
  requestId: string | null;
  /** Confines reads and writes to one owner; null means unrestricted. */
  owner: string | null;
  /** Where a change came from, such as a GitOps commit sha. */
  source: string | null;
  /**
   * The scopes of Keysmith's own API that the caller holds, which bound what it may hand on to an
   * account or a key. Null for operator paths (jobs, the in-process CLI), which are unbounded.
   */
  callerScopes: string[] | null;
}

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

export function contextFromRequest(request: AuthenticatedRequest): OperationContext {
  const principal = request.principal;
  return {
    actor: principal ? { type: principal.method, id: principal.subject } : { type: 'anonymous', id: null },
    requestId: String(request.id),
    owner: principal?.owner ?? null,
    source: null,
    callerScopes: principal ? principal.scopes : [],
  };
}

export function systemContext(type: 'job' | 'cli', id: string, source: string | null = null): OperationContext {
  return { actor: { type, id }, requestId: null, owner: null, source, callerScopes: null };
}

/** Controller parameter: the OperationContext of the current request. */
export const Ctx = createParamDecorator((_: unknown, host: ExecutionContext) =>
  contextFromRequest(host.switchToHttp().getRequest<AuthenticatedRequest>()),
);
