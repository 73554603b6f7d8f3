// Schema version 3: what the web app's accounts need besides the users table — named settings
// (the cookie-signing secret, kept in the store so every host serving the web app shares it),
// login sessions and API tokens. Sessions and tokens are stored as SHA-256 hashes of the secret
// the browser or script holds, so a copy of the store lets no one sign in.
//
// No REFERENCES to users: DuckDB checks foreign keys on every update of the referenced table's
// row and refuses some updates of indexed columns; the store's methods keep the links instead.

/** The statements of migration 3, in order. */
export function accountsSchema(): string[] {
  return [
    'CREATE TABLE settings (name VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)',
    'CREATE TABLE sessions (idHash VARCHAR PRIMARY KEY, userId INTEGER NOT NULL, createdAt TIMESTAMPTZ NOT NULL, expiresAt TIMESTAMPTZ NOT NULL)',
    'CREATE SEQUENCE api_token_id_seq START 1',
    `CREATE TABLE api_tokens (id INTEGER PRIMARY KEY, userId INTEGER NOT NULL, name VARCHAR NOT NULL, tokenHash VARCHAR NOT NULL UNIQUE,
      prefix VARCHAR NOT NULL, createdAt TIMESTAMPTZ NOT NULL, lastUsedAt TIMESTAMPTZ, revokedAt TIMESTAMPTZ)`,
  ];
}
