// Reading the errors of @platformatic/kafka: they nest (an aggregate of per-partition protocol
// errors, each with Kafka's numeric error code), and their top message is often generic.

/** True when err (or an error inside it) is a Kafka protocol error with this numeric code. */
export function hasKafkaErrorCode(err: unknown, code: number): boolean {
  const seen = new Set<unknown>();
  const visit = (e: unknown): boolean => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return false;
    seen.add(e);
    const o = e as { apiCode?: unknown; errors?: unknown; cause?: unknown };
    if (o.apiCode === code) return true;
    if (Array.isArray(o.errors) && o.errors.some(visit)) return true;
    return visit(o.cause);
  };
  return visit(err);
}

/** The innermost useful messages of a (possibly nested) client error, on one line. */
export function describeError(err: unknown): string {
  const messages: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown): void => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    const o = e as { message?: unknown; serverErrorMessage?: unknown; errors?: unknown; cause?: unknown };
    const nested = Array.isArray(o.errors) ? o.errors : [];
    if (nested.length === 0 && typeof o.message === 'string' && o.message !== '') {
      const detail = typeof o.serverErrorMessage === 'string' && o.serverErrorMessage !== '' ? ` (${o.serverErrorMessage})` : '';
      messages.push(o.message + detail);
    }
    nested.forEach(visit);
    visit(o.cause);
  };
  visit(err);
  if (messages.length === 0) return err instanceof Error ? err.message : String(err);
  return [...new Set(messages)].join('; ');
}
