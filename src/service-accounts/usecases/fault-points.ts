/**
 * Every named fault point of the service-accounts use cases, in the order each operation reaches
 * them (a point is reached right after the step it names). `npm run chaos` enumerates this list;
 * the points fire only when KEYSMITH_FAULT_POINTS names them (src/common/faults/fault-points.ts).
 */
export const SERVICE_ACCOUNT_FAULT_POINTS = [
  'provision.row-inserted',
  'provision.client-created',
  'provision.grants-set',
  'provision.ready',
  'reconcile.row-updating',
  'reconcile.client-updated',
  'reconcile.grants-set',
  'reconcile.ready',
  'delete.row-deleting',
  'delete.client-deleted',
  'delete.row-deleted',
  'recover.client-removed',
] as const;

