/** Who acts: a caller of the API (by JWT or API key), a scheduled job, the CLI, or nobody known. */
export type ActorType = 'jwt' | 'api-key' | 'job' | 'cli' | 'anonymous';

export interface Actor {
  type: ActorType;
  id: string | null;
}
