/**
 * The named fault points of the secret-rotation state machine, in the order a rotation reaches
 * them. Tests and `npm run chaos` enumerate this list; `faultPoint(...)` is called with each name.
 *
 * - `rotate.intent-recorded`: the intent (rotation id, grace) is on the row; Keycloak not asked yet.
 * - `rotate.regenerated`: Keycloak answered the regeneration; the new secret is not stored yet.
 * - `rotate.stored`: the new secret is stored encrypted; not proven yet.
 * - `rotate.verified`: a client-credentials request proved it; not audited nor announced yet.
 * - `rotate.notified`: audited and announced; the previous secret runs out its grace window.
 * - `rotate.previous-invalidated`: Keycloak ended the previous secret; the row not cleared yet.
 */
export const ROTATION_FAULT_POINTS = [
  'rotate.intent-recorded',
  'rotate.regenerated',
  'rotate.stored',
  'rotate.verified',
  'rotate.notified',
  'rotate.previous-invalidated',
] as const;

export type RotationFaultPoint = (typeof ROTATION_FAULT_POINTS)[number];
