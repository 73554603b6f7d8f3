// The SQL of the kafka_users table (schema-kafka-users.ts) on DuckDB. Each function runs on the
// connection it is given; duckdb-store.ts picks the connection and serialises the calls.
import type { DuckDBConnection } from '@duckdb/node-api';
import { checkId } from './account-rows.ts';
import type { KafkaUserInput, StoredKafkaUser } from './store.ts';

function toKafkaUser(row: Record<string, unknown>): StoredKafkaUser {
  return {
    userId: row.userId as number,
    username: row.username as string,
    password: row.password as string,
    createdAt: (row.createdAt as Date).toISOString(),
    updatedAt: (row.updatedAt as Date).toISOString(),
  };
}

export async function getKafkaUser(c: DuckDBConnection, userId: number): Promise<StoredKafkaUser | null> {
  const reader = await c.runAndReadAll('SELECT * FROM kafka_users WHERE userId = CAST($1 AS INTEGER)', [checkId(userId, 'user')]);
  const row = reader.getRowObjectsJS()[0];
  return row === undefined ? null : toKafkaUser(row);
}

export async function listKafkaUsers(c: DuckDBConnection): Promise<StoredKafkaUser[]> {
  return (await c.runAndReadAll('SELECT * FROM kafka_users ORDER BY userId')).getRowObjectsJS().map(toKafkaUser);
}

/** Inserts the user's credentials, or replaces the password of the ones stored (a user's username never changes). */
export async function saveKafkaUser(c: DuckDBConnection, user: KafkaUserInput): Promise<StoredKafkaUser> {
  checkId(user.userId, 'user');
  if (typeof user.username !== 'string' || user.username === '') throw new Error('a Kafka user needs a username');
  if (typeof user.password !== 'string' || user.password === '') throw new Error(`Kafka user ${user.username} needs a password`);
  const reader = await c.runAndReadAll(
    `INSERT INTO kafka_users VALUES (CAST($1 AS INTEGER), $2, $3, now(), now())
     ON CONFLICT (userId) DO UPDATE SET password = EXCLUDED.password, updatedAt = now() RETURNING *`,
    [user.userId, user.username, user.password],
  );
  return toKafkaUser(reader.getRowObjectsJS()[0] as Record<string, unknown>);
}

export async function deleteKafkaUser(c: DuckDBConnection, userId: number): Promise<boolean> {
  return (await c.run('DELETE FROM kafka_users WHERE userId = CAST($1 AS INTEGER)', [checkId(userId, 'user')])).rowsChanged > 0;
}
