/**
 * Talks to a running Keysmith for `--server URL`: the bundle goes to `POST /v1/gitops/plan` or
 * `/apply`, authenticated with `KEYSMITH_TOKEN` (a Keycloak JWT, or a Keysmith API key `sk_...`).
 */
export class GitopsServerClient {
  constructor(
    private readonly server: string,
    private readonly token: string | undefined,
  ) {}

  /** `server`: a base URL as `serverUrl` (gitops-cli.support.ts) checks and returns it, without a trailing slash. */
  static fromEnv(server: string, env: Record<string, string | undefined> = process.env): GitopsServerClient {
    return new GitopsServerClient(server, env.KEYSMITH_TOKEN?.trim() || undefined);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.token) throw new Error('KEYSMITH_TOKEN must hold a JWT or an API key to use --server');
    const credential: Record<string, string> = /^sk_(live|test)_/.test(this.token) ? { 'x-api-key': this.token } : { authorization: `Bearer ${this.token}` };
    let response: Response;
    try {
      response = await fetch(`${this.server}${path}`, {
        method,
        headers: { accept: 'application/json', ...credential, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new Error(`cannot reach ${this.server}: ${unreachableReason(error)}`, { cause: error });
    }
    const text = await response.text();
    const parsed = safeJson(text);
    if (!response.ok) {
      const problem = (parsed ?? {}) as { code?: string; detail?: string; errors?: { field: string; message: string }[] };
      const details = (problem.errors ?? []).map((e) => `\n  ${e.field}: ${e.message}`).join('');
      throw new Error(`${this.server} answered ${response.status} ${problem.code ?? ''}: ${problem.detail ?? text.slice(0, 200)}${details}`);
    }
    return parsed as T;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The set and prune options as `POST /v1/gitops/plan` and `/apply` take them (no `set` when none). */
export function bundleBody(options: { prune: boolean; set: string | null; adoptFromSets: string[]; adoptUnassigned: boolean; realms: string[] }): Record<string, unknown> {
  return {
    prune: options.prune,
    ...(options.set ? { set: options.set } : {}),
    ...(options.adoptFromSets.length ? { adoptFromSets: options.adoptFromSets } : {}),
    ...(options.adoptUnassigned ? { adoptUnassigned: true } : {}),
    realms: options.realms,
  };
}

/**
 * Why a request never got an answer. fetch says only "fetch failed"; its cause says why (connect
 * ECONNREFUSED, getaddrinfo ENOTFOUND, a TLS error). A host with IPv6 and IPv4 addresses fails with
 * an AggregateError whose own message is empty: the first of its errors says why.
 */
export function unreachableReason(error: unknown): string {
  const cause = (error as Error).cause as (Error & { code?: string; errors?: unknown[] }) | undefined;
  const inner = Array.isArray(cause?.errors) ? cause.errors.map((each) => (each as Error)?.message) : [];
  const reasons = [cause?.message, ...inner, cause?.code, (error as Error).message];
  return reasons.find((reason): reason is string => typeof reason === 'string' && reason.length > 0) ?? 'no reason given';
}
