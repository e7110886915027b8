/**
 * Whose audit event is it: the owner of the service account an event is about. Provided by the
 * service-accounts module, so audit never reads that feature's table itself.
 */
export abstract class AuditOwnerLookup {
  /** The owner of the account (the latest one with this clientId, deleted or not), or null. */
  abstract ownerOf(realm: string, clientId: string): Promise<string | null>;
}
