// Values of command-line flags, checked once for every command.
import { UserError } from '../util/errors.ts';

/** An integer flag of at least `min`; empty text, fractions and unsafe integers are refused. */
export function integerFlag(text: string, flag: string, min: number = Number.MIN_SAFE_INTEGER): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < min) {
    throw new UserError(`${flag} must be an integer${min > Number.MIN_SAFE_INTEGER ? ` >= ${min}` : ''}, got "${text}"`);
  }
  return n;
}
