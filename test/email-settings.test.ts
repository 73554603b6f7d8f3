// SMTP settings from --smtp-url and from the smtp: section of the --config YAML: defaults per
// security mode, credentials decoded, and one-line errors for what cannot work.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { describeSmtp, parseSmtpUrl, smtpSettingsFrom } from '../src/email/smtp-settings.ts';
import { UserError } from '../src/util/errors.ts';

const userError = (pattern: RegExp) => (e: Error) => e instanceof UserError && pattern.test(e.message);

test('--smtp-url: schemes, ports, security, credentials and from', () => {
  assert.deepEqual(parseSmtpUrl('smtps://alerts%40lab:p%3Ass@mail.example.org?from=Nightjar%20%3Calerts%40lab.org%3E'), {
    host: 'mail.example.org',
    port: 465,
    security: 'tls',
    from: 'Nightjar <alerts@lab.org>',
    user: 'alerts@lab',
    password: 'p:ss',
  });
  const plain = parseSmtpUrl('smtp://mail.example.org', 'a@b.org');
  assert.deepEqual([plain.port, plain.security, plain.from, plain.user], [587, 'starttls', 'a@b.org', undefined]);
  const relay = parseSmtpUrl('smtp://127.0.0.1:2525?security=none', 'a@b.org');
  assert.deepEqual([relay.host, relay.port, relay.security], ['127.0.0.1', 2525, 'none']);
  assert.equal(parseSmtpUrl('smtp://h?security=opportunistic').security, 'opportunistic');
  assert.match(parseSmtpUrl('smtp://h').from, /^Nightjar <nightjar@.+>$/);
  assert.equal(describeSmtp(parseSmtpUrl('smtp://u:secret@h:25?security=none&from=x@y')), 'smtp://u@h:25 (none), from x@y');
  assert.ok(!describeSmtp(parseSmtpUrl('smtps://u:secret@h')).includes('secret'));
});

test('--smtp-url: mistakes are one-line errors that never show the password', () => {
  assert.throws(() => parseSmtpUrl('http://h'), userError(/must start with smtp:\/\/ or smtps:\/\//));
  assert.throws(() => parseSmtpUrl('smtp://h?security=ssl'), userError(/security must be one of tls, starttls, opportunistic, none/));
  assert.throws(() => parseSmtpUrl('smtps://h?security=none'), userError(/smtps:\/\/ is TLS from the start/));
  assert.throws(() => parseSmtpUrl('smtp://h?port=1'), userError(/unknown parameter "port"/));
  assert.throws(() => parseSmtpUrl('smtp://h', 'nobody'), userError(/from must be an email address/));
  assert.throws(() => parseSmtpUrl('smtp://u:hunter2@h:99999'), (e: Error) => e instanceof UserError && !e.message.includes('hunter2'));
});

test('the smtp: section of the config file, and flags over it', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nightjar-smtp-'));
  try {
    const file = path.join(dir, 'nightjar.yaml');
    await writeFile(file, 'kafka:\n  bootstrap: 127.0.0.1:19092\nsmtp:\n  host: mail.example.org\n  port: 2587\n  security: starttls\n  user: broker\n  password: s3cret\n  from: alerts@example.org\n');
    assert.deepEqual(smtpSettingsFrom({ config: file }), { host: 'mail.example.org', port: 2587, security: 'starttls', from: 'alerts@example.org', user: 'broker', password: 's3cret' });
    assert.equal(smtpSettingsFrom({ config: file, smtpFrom: 'other@example.org' })?.from, 'other@example.org');
    assert.equal(smtpSettingsFrom({ config: file, smtpUrl: 'smtp://127.0.0.1:25?security=none&from=x@y' })?.host, '127.0.0.1', '--smtp-url wins');
    await writeFile(file, 'kafka:\n  bootstrap: 127.0.0.1:19092\n');
    assert.equal(smtpSettingsFrom({ config: file }), null, 'no smtp section: email off');
    assert.equal(smtpSettingsFrom({}), null);
    assert.throws(() => smtpSettingsFrom({ smtpFrom: 'a@b' }), userError(/--smtp-from needs --smtp-url/));
    await writeFile(file, 'smtp:\n  host: h\n  tls: true\n');
    assert.throws(() => smtpSettingsFrom({ config: file }), userError(/unknown setting "tls"/));
    await writeFile(file, 'smtp:\n  port: 25\n');
    assert.throws(() => smtpSettingsFrom({ config: file }), userError(/smtp needs a host/));
    await writeFile(file, 'smtp:\n  host: h\n  security: tls\n');
    assert.equal(smtpSettingsFrom({ config: file })?.port, 465);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
