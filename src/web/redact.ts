// Text that goes to the logs from the web app passes through here first: API tokens, bearer
// credentials, session cookie values and password fields of a form body are masked, so a
// message that quotes a request (an error from a library, a URL) cannot write a secret to a log.

const PATTERNS: readonly [RegExp, string][] = [
  [/\bnj_[A-Za-z0-9_-]{20,}/g, 'nj_[redacted]'],
  [/\b(Bearer|Basic)\s+[^\s,;"']+/gi, '$1 [redacted]'],
  // A session cookie: 43 base64url characters, "~", the stamp, and perhaps its signature.
  [/\b[A-Za-z0-9_-]{43}~[0-9a-z]{1,9}(\.[A-Za-z0-9_+/=-]+)?/g, '[session redacted]'],
  [/((?:^|[?&;\s"'{,])(?:password|current|_csrf|sasl[._-]?password|smtp[._-]?password)["']?\s*[=:]\s*["']?)[^&\s"',}]*/gi, '$1[redacted]'],
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** A URL for the logs: its path only (query strings may hold anything a user typed). */
export function logPath(url: string): string {
  return redactSecrets(url.split('?')[0] ?? url);
}
