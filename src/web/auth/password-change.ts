// Changing a password: the current one is checked, the new one must pass the sign-up rules and
// differ, and then every session of the account ends (a stolen cookie stops working); the route
// starts a fresh session for the browser that made the change.
import type { Store, StoredUser } from '../../store/store.ts';
import { DEFAULT_SCRYPT, hashPassword, passwordProblem, verifyPassword, type ScryptParams } from './passwords.ts';

export type PasswordField = 'current' | 'password';

export type PasswordChange = { ok: true } | { ok: false; field: PasswordField; message: string; wrongCurrent: boolean };

/** Checks and makes the change; the caller then starts a new session. */
export async function changePassword(store: Store, user: StoredUser, current: string, next: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<PasswordChange> {
  const fresh = await store.getUser(user.id);
  if (fresh === null || fresh.passwordHash === null || current.length === 0 || current.length > 1024 || !(await verifyPassword(current, fresh.passwordHash))) {
    return { ok: false, field: 'current', message: 'the current password is wrong', wrongCurrent: true };
  }
  const problem = passwordProblem(next);
  if (problem !== null) return { ok: false, field: 'password', message: problem, wrongCurrent: false };
  if (next === current) return { ok: false, field: 'password', message: 'the new password is the same as the current one', wrongCurrent: false };
  await store.setUserPassword(user.id, await hashPassword(next, params));
  await store.deleteUserSessions(user.id);
  return { ok: true };
}
