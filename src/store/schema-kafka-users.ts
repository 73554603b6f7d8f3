// Schema version 4: each account's Kafka credentials (src/kafka/access.ts). Kafka itself keeps
// only salted SCRAM hashes; the store keeps the password so the account page can show it.
//
// Stored as plain text, deliberately: the password is random (never one a person chose and
// reuses elsewhere), and it grants reading the account's filter streams, whose records are
// made from this same store's objects and filters, so whoever can read the store file already
// has everything the password unlocks. Encrypting it with a key kept in the store (or beside
// it) would add machinery without adding protection; a leaked password is replaced with
// rotateKafkaPassword. No REFERENCES to users, as in schema-accounts.ts: the store's methods
// keep the link.

/** The statements of migration 4, in order. */
export function kafkaUsersSchema(): string[] {
  return ['CREATE TABLE kafka_users (userId INTEGER PRIMARY KEY, username VARCHAR NOT NULL UNIQUE, password VARCHAR NOT NULL, createdAt TIMESTAMPTZ NOT NULL, updatedAt TIMESTAMPTZ NOT NULL)'];
}
