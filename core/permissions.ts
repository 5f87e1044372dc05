/**
 * Roles and what each may do. Pure (no I/O), so the server enforces it and the
 * console imports the same table to hide controls a role cannot use; hiding is a
 * courtesy, the server's check is the rule.
 */

/** Roles in increasing power: each role may do everything the previous one may. */
export const roles = ['viewer', 'operator', 'admin'] as const;
/** One role. */
export type Role = (typeof roles)[number];

/** True when `value` names a role. */
export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

/** True when `role` is at least `required`. */
export function hasRole(role: Role, required: Role): boolean {
  return roles.indexOf(role) >= roles.indexOf(required);
}

/** Every action the server authorises, with the least role allowed to take it. */
export const requiredRoleByAction = {
  /** Read cluster state, partitions, alerts, recovery runs, history. */
  read: 'viewer',
  /** Acknowledge or resolve an alert. */
  'alert:acknowledge': 'operator',
  'alert:resolve': 'operator',
  /** Approve or reject a recovery, start one, pause, resume or abort it. */
  'recovery:decide': 'operator',
  'recovery:start': 'operator',
  'recovery:control': 'operator',
  /** Inject or heal faults, run chaos scenarios. */
  'chaos:run': 'operator',
  /** Manage users, API tokens and read the audit log. */
  'users:manage': 'admin',
  'tokens:manage': 'admin',
  'audit:read': 'admin',
} as const satisfies Record<string, Role>;
/** One authorised action. */
export type Action = keyof typeof requiredRoleByAction;

/** Whether a principal with `role` may take `action`. */
export function can(role: Role | null | undefined, action: Action): boolean {
  return role != null && hasRole(role, requiredRoleByAction[action]);
}

/** Named checks, for readable call sites in the console. */
export const canAcknowledgeAlerts = (role: Role | null | undefined) => can(role, 'alert:acknowledge');
export const canDecideRecovery = (role: Role | null | undefined) => can(role, 'recovery:decide');
export const canRunChaos = (role: Role | null | undefined) => can(role, 'chaos:run');
export const canManageUsers = (role: Role | null | undefined) => can(role, 'users:manage');
