import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kafkaSettingsFrom } from '../src/cli/kafka-options.ts';
import { UserError } from '../src/util/errors.ts';

test('flags win over the config file, which wins over the environment', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nightjar-kafka-options-'));
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, 'kafka:\n  bootstrap: [a.example:9092, b.example:9092]\n  sasl: {username: alice, password: "s3cret"}\n');
  const env = { NIGHTJAR_KAFKA_BOOTSTRAP: 'env.example:9092' };
  assert.deepEqual(kafkaSettingsFrom({ config }, env).bootstrap, ['a.example:9092', 'b.example:9092']);
  assert.deepEqual(kafkaSettingsFrom({ config }, env).sasl, { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 's3cret' });
  const flagged = kafkaSettingsFrom({ config, bootstrap: 'flag.example:1', saslMechanism: 'plain' }, env);
  assert.deepEqual(flagged.bootstrap, ['flag.example:1']);
  assert.equal(flagged.sasl?.mechanism, 'PLAIN');
  assert.deepEqual(kafkaSettingsFrom({}, env).bootstrap, ['env.example:9092']);
  assert.deepEqual(kafkaSettingsFrom({}, {}).bootstrap, ['127.0.0.1:19092']);
});

test('bad settings are one-line user errors', () => {
  assert.throws(() => kafkaSettingsFrom({ bootstrap: 'nohostport' }, {}), UserError);
  assert.throws(() => kafkaSettingsFrom({ config: '/nonexistent/config.yaml' }, {}), /cannot read config file/);
  assert.throws(() => kafkaSettingsFrom({ saslUsername: 'bob' }, {}), /SASL needs both/);
});
