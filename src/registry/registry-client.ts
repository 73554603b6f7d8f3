// The producer side of a Confluent schema registry: registering a writer schema under a
// subject to learn its id (reading schemas by id is formats/schema-source.ts's registryClient).
import { SchemaSourceError } from '../formats/errors.ts';
import { splitCredentials } from '../formats/schema-source.ts';

/**
 * POST {url}/subjects/{subject}/versions {"schema": text} → the schema's id. Registries answer
 * with the existing id when the schema is already registered, so this is safe to repeat.
 * Throws SchemaSourceError: `unavailable` when the registry cannot be reached or fails,
 * `invalid` when it rejects the schema (with its error message).
 */
export async function registerSchema(url: string, subject: string, text: string, timeoutMs = 10_000): Promise<number> {
  const { base, authorization } = splitCredentials(url);
  const pathname = `/subjects/${encodeURIComponent(subject)}/versions`;
  let response: Response;
  try {
    response = await fetch(`${base}${pathname}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/vnd.schemaregistry.v1+json',
        accept: 'application/vnd.schemaregistry.v1+json, application/json',
        ...(authorization === undefined ? {} : { authorization }),
      },
      body: JSON.stringify({ schema: text }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    throw new SchemaSourceError('unavailable', base, undefined, `schema registry ${base} unreachable (POST ${pathname}): ${cause?.code ?? cause?.message ?? (err as Error).message}`, err);
  }
  const body = await response.text().catch(() => '');
  if (!response.ok) {
    const detail = body.length > 300 ? `${body.slice(0, 300)}…` : body;
    const kind = response.status >= 500 ? 'unavailable' : 'invalid';
    throw new SchemaSourceError(kind, base, undefined, `schema registry ${base}: registering under subject ${subject} failed (HTTP ${response.status}${detail === '' ? '' : `: ${detail}`})`);
  }
  let id: unknown;
  try {
    id = (JSON.parse(body) as { id?: unknown }).id;
  } catch {
    id = undefined;
  }
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffffffff) {
    throw new SchemaSourceError('invalid', base, undefined, `schema registry ${base}: POST ${pathname} did not return a schema id (${body.slice(0, 100)})`);
  }
  return id;
}
