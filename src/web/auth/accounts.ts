// Signing up and logging in, over the store's users. Checks of what a person types are here,
// with messages for the form; hashing is passwords.ts.
import type { Store, StoredUser } from '../../store/store.ts';
import { UserError } from '../../util/errors.ts';
import { DEFAULT_SCRYPT, hashPassword, passwordProblem, verifyPassword, type ScryptParams } from './passwords.ts';
import { randomSecret } from './secrets.ts';

export const MAX_EMAIL_LENGTH = 254;
export const MAX_NAME_LENGTH = 100;
const EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:"]+$/;

export type AccountField = 'email' | 'name' | 'password';

export interface AccountProblem {
  field: AccountField;
  message: string;
}

export interface SignUpInput {
  email: string;
  name: string;
  password: string;
}

export type SignUpResult = { user: StoredUser; problems?: undefined } | { user?: undefined; problems: AccountProblem[] };

/** What is wrong with a sign-up form, field by field (empty when nothing). */
export function signUpProblems(input: SignUpInput): AccountProblem[] {
  const problems: AccountProblem[] = [];
  const email = input.email.trim();
  if (email === '') problems.push({ field: 'email', message: 'enter your email address' });
  else if (email.length > MAX_EMAIL_LENGTH || !EMAIL.test(email)) problems.push({ field: 'email', message: `"${email.slice(0, 80)}" is not an email address` });
  const name = input.name.trim();
  if (name === '') problems.push({ field: 'name', message: 'enter your name' });
  else if (name.length > MAX_NAME_LENGTH) problems.push({ field: 'name', message: `the name must have at most ${MAX_NAME_LENGTH} characters` });
  const password = passwordProblem(input.password);
  if (password !== null) problems.push({ field: 'password', message: password });
  return problems;
}

/** Creates the account, or says what is wrong (an email already registered included). */
export async function signUp(store: Store, input: SignUpInput, params: ScryptParams = DEFAULT_SCRYPT): Promise<SignUpResult> {
  const problems = signUpProblems(input);
  if (problems.length > 0) return { problems };
  const email = input.email.trim();
  if ((await store.findUserByEmail(email)) !== null) return { problems: [{ field: 'email', message: 'an account with this email address already exists: log in instead' }] };
  const passwordHash = await hashPassword(input.password, params);
  try {
    return { user: await store.createUser({ email, name: input.name.trim(), passwordHash }) };
  } catch (error) {
    // Two sign-ups with one address at once: the store refuses the second.
    if (error instanceof UserError && /already exists/.test(error.message)) return { problems: [{ field: 'email', message: 'an account with this email address already exists: log in instead' }] };
    throw error;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * The user whose email and password these are, or null. An unknown email costs the same scrypt
 * work as a wrong password, so response times do not tell which addresses have accounts.
 */
export async function logIn(store: Store, email: string, password: string): Promise<StoredUser | null> {
  if (password.length === 0 || password.length > 1024 || email.length > MAX_EMAIL_LENGTH) return null;
  const user = await store.findUserByEmail(email.trim());
  if (user === null || user.passwordHash === null) {
    dummyHash ??= hashPassword(randomSecret(16));
    await verifyPassword(password, await dummyHash);
    return null;
  }
  return (await verifyPassword(password, user.passwordHash)) ? user : null;
}
