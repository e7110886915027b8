/** The public surface of the audit feature: other features and the app import only this file. */
export { AuditModule } from './audit.module.js';
export { AuditService } from './audit.service.js';
export type { AuditRecord } from './audit.service.js';
export { AuditOwnerLookup } from './ports/audit-owner-lookup.port.js';
