// The Kafka topic of a filter's stream, by Lasair's rule: `<prefix>_<user id><sanitised name>`,
// where sanitising keeps only letters, digits, `_`, `-` and `.` of the filter name, and a
// sanitised name longer than 128 characters keeps its first 64 and last 64 characters (the
// limit applies to the sanitised filter name, not to the whole topic: Lasair checks
// `len(name) > 128` after sanitising and before adding the prefix). With prefix `lasair`, user 2
// and the filter "Has absmag" this gives Lasair's own example, `lasair_2Hasabsmag`.
//
// One deliberate difference: "letters and digits" means ASCII ones. Lasair tests Python's
// str.isalnum(), which is true for "é" or "名", and Kafka refuses such a topic name (legal
// characters are ASCII letters, digits, `.`, `_`, `-`); Nightjar drops them like any other
// character, so every name it makes can be created.
import { UserError } from '../util/errors.ts';

export const DEFAULT_TOPIC_PREFIX = 'nightjar';
/** Longest sanitised filter name kept whole; longer ones keep their two ends. */
export const MAX_SANITISED_NAME = 128;
const KEPT_END = MAX_SANITISED_NAME / 2;
/** Kafka's longest topic name. */
export const MAX_TOPIC_LENGTH = 249;

const kept = /[A-Za-z0-9_.-]/;
const legalPrefix = /^[A-Za-z0-9_.-]+$/;

/**
 * The filter name reduced to the characters a topic may hold, shortened to its first and last
 * 64 characters when longer than 128. May be empty (see {@link filterTopicName}).
 */
export function sanitiseFilterName(name: string): string {
  let out = '';
  // for..of walks code points, so a character outside the BMP is dropped whole.
  for (const ch of name) if (kept.test(ch)) out += ch;
  return out.length > MAX_SANITISED_NAME ? out.slice(0, KEPT_END) + out.slice(-KEPT_END) : out;
}

/** Text of a user id: a non-negative integer (number, BigInt or digits). */
function userIdText(userId: number | bigint | string): string {
  const text = typeof userId === 'string' ? userId.trim() : String(userId);
  if (!/^\d+$/.test(text) || (typeof userId === 'number' && !Number.isSafeInteger(userId))) {
    throw new UserError(`a filter topic needs a non-negative integer user id, not "${String(userId)}"`);
  }
  return text;
}

/**
 * The topic name of a user's filter. Throws UserError when the name has nothing left after
 * sanitising, when the prefix is not a legal topic-name part, or when the whole name would be
 * longer than Kafka allows (only a very long prefix or user id can do that).
 *
 * Like Lasair's, the rule can map two filters to one topic: user 1's "2abc" and user 12's "abc"
 * are both `<prefix>_12abc`, and "a b" and "ab" of one user collide too. Whoever saves filters
 * must refuse a topic name that another filter already has.
 */
export function filterTopicName(prefix: string, userId: number | bigint | string, filterName: string): string {
  if (!legalPrefix.test(prefix)) {
    throw new UserError(`topic prefix "${prefix}" must be non-empty and use only letters, digits, "_", "-" and "."`);
  }
  const name = sanitiseFilterName(filterName);
  if (name === '') {
    throw new UserError(`filter name "${filterName}" has no letters, digits, "_", "-" or "." to make a topic name from; add some`);
  }
  const topic = `${prefix}_${userIdText(userId)}${name}`;
  if (topic.length > MAX_TOPIC_LENGTH) {
    throw new UserError(`topic name ${topic.slice(0, 40)}… is ${topic.length} characters; Kafka allows ${MAX_TOPIC_LENGTH} (shorten the topic prefix)`);
  }
  return topic;
}
