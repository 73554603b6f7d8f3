// The pure parts of email: back-off and due times, CSV and HTML escaping, digests without a
// public URL or with more matches than one email carries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestEmail, objectUrl } from '../src/email/digest-content.ts';
import { DAY_MS, digestDue, filterErrorDue, nextDigestAt, retryDelayMs } from '../src/email/schedule.ts';
import { escapeHtml, toCsv } from '../src/email/text-format.ts';
import type { FilterMatch } from '../src/store/store.ts';

test('back-off doubles per failure up to its ceiling, longer for permanent refusals', () => {
  const policy = { baseMs: 1000, maxMs: 10_000, maxPermanentMs: 100_000 };
  assert.deepEqual([1, 2, 3, 4, 5, 60].map((n) => retryDelayMs(n, false, policy)), [1000, 2000, 4000, 8000, 10_000, 10_000]);
  assert.deepEqual([1, 5, 8, 1000].map((n) => retryDelayMs(n, true, policy)), [1000, 16_000, 100_000, 100_000]);
});

test('a digest is due at once before the first, then a period after the last, and never before a retry time', () => {
  const t = Date.parse('2026-03-01T00:00:00Z');
  const iso = (ms: number): string => new Date(ms).toISOString();
  assert.equal(nextDigestAt({ lastSentAt: null, retryAt: null }), null);
  assert.equal(digestDue({ lastSentAt: iso(t), retryAt: null }, new Date(t + DAY_MS - 1)), false);
  assert.equal(digestDue({ lastSentAt: iso(t), retryAt: null }, new Date(t + DAY_MS)), true);
  assert.equal(digestDue({ lastSentAt: iso(t), retryAt: iso(t + DAY_MS + 5) }, new Date(t + DAY_MS)), false);
  assert.equal(nextDigestAt({ lastSentAt: null, retryAt: iso(t + 5) })?.getTime(), t + 5);
  assert.equal(filterErrorDue(null, new Date(t)), true);
  assert.equal(filterErrorDue({ filterErrorSentAt: iso(t) }, new Date(t + DAY_MS - 1)), false);
});

test('CSV quotes what needs quoting and writes 64-bit ids exactly; HTML escaping covers quotes', () => {
  assert.equal(toCsv(['a', 'b,c'], [[170587115523932323n, 'say "hi"'], [null, 'x\ny'], [1.5, true]]), 'a,"b,c"\r\n170587115523932323,"say ""hi"""\r\n,"x\ny"\r\n1.5,true\r\n');
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

const match = (i: number, row: Record<string, unknown>, survey?: 'lsst'): FilterMatch => ({
  seq: BigInt(i),
  filterId: 4,
  objectId: `ZTF21aaa${i}`,
  sourceId: BigInt(i),
  mjd: 60000 + i,
  matchedAt: `2026-03-01T0${i}:00:00.000Z`,
  row,
  ...(survey === undefined ? {} : { survey }),
});

test('digests: no links without a public URL or survey; a filter edited mid-period lists the union of its columns; the rest announced', () => {
  assert.equal(objectUrl(null, 'lsst', '1'), null);
  assert.equal(objectUrl('https://x.org/', undefined, '1'), null);
  assert.equal(objectUrl('https://x.org/', 'ztf', 'ZTF 1/2'), 'https://x.org/objects/ztf/ZTF%201%2F2');
  const email = digestEmail({
    filter: { id: 4, name: 'two' },
    to: 'a@b.org',
    matches: [match(1, { gmag: 18 }), match(2, { gmag: 19, rmag: 18.5 })],
    previousSentAt: '2026-02-28T01:00:00.000Z',
    publicUrl: null,
    maxBodyRows: 10,
    periodHours: 24,
    more: true,
  });
  assert.match(email.text, /UTC\s+object\s+gmag\s+rmag\n/);
  assert.match(email.text, /2026-03-01 01:00:00\s+ZTF21aaa1\s+18\n/);
  assert.ok(!email.text.includes('http'), 'no links anywhere');
  assert.match(email.text, /since the previous email \(2026-02-28 01:00:00 UTC\)/);
  assert.match(email.text, /the rest follow in the next email/);
  assert.deepEqual(email.attachments, []);
  assert.throws(() => digestEmail({ filter: { id: 4, name: 'x' }, to: 'a@b', matches: [], previousSentAt: null, publicUrl: null, maxBodyRows: 1, periodHours: 24 }), /no matches/);
});
