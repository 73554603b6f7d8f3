// Filter topic names by Lasair's rule: prefix, user id, sanitised filter name, 64+64 shortening.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TOPIC_PREFIX, MAX_TOPIC_LENGTH, filterTopicName, sanitiseFilterName } from '../src/delivery/topic-name.ts';
import { UserError } from '../src/util/errors.ts';

test('Lasair\'s own examples come out the same with prefix "lasair"', () => {
  // Seed 001 ("Has absmag" → lasair_2Hasabsmag), seed 000 (lasair_2SN-likecandidates) and the
  // example in Lasair's topic_name.py comment (lasair_22fromsecretEuclidwatchlist).
  assert.equal(filterTopicName('lasair', 2, 'Has absmag'), 'lasair_2Hasabsmag');
  assert.equal(filterTopicName('lasair', 2, 'SN-like candidates'), 'lasair_2SN-likecandidates');
  assert.equal(filterTopicName('lasair', 22, 'from secret Euclid watchlist'), 'lasair_22fromsecretEuclidwatchlist');
});

test('the default prefix is nightjar; user ids may be numbers, BigInt or digits', () => {
  assert.equal(DEFAULT_TOPIC_PREFIX, 'nightjar');
  assert.equal(filterTopicName(DEFAULT_TOPIC_PREFIX, 7, 'My filter'), 'nightjar_7Myfilter');
  assert.equal(filterTopicName('nightjar', 12345678901234567890n, 'x'), 'nightjar_12345678901234567890x');
  assert.equal(filterTopicName('nightjar', ' 42 ', 'x'), 'nightjar_42x');
  assert.equal(filterTopicName('nightjar', 0, 'x'), 'nightjar_0x');
});

test('sanitising keeps ASCII letters, digits, _ - . and drops everything else', () => {
  assert.equal(sanitiseFilterName('a b\tc\n'), 'abc');
  assert.equal(sanitiseFilterName('SN_Ia-like v2.1 (bright!) #3 @ z<0.1'), 'SN_Ia-likev2.1bright3z0.1');
  assert.equal(sanitiseFilterName('"quotes" \'and\' /slashes\\ & ; | $'), 'quotesandslashes');
  // Unicode letters are dropped (Python's isalnum would keep them; Kafka refuses them).
  assert.equal(sanitiseFilterName('Café Ωmega 名前 ٣ ①'), 'Cafmega');
  // A character outside the BMP goes whole, not half a surrogate pair.
  assert.equal(sanitiseFilterName('star 🌟 burst'), 'starburst');
  assert.equal(sanitiseFilterName(''), '');
});

test('a sanitised name over 128 characters keeps its first 64 and last 64', () => {
  const head = 'H'.repeat(64);
  const tail = 'T'.repeat(64);
  assert.equal(sanitiseFilterName(head + 'middle' + tail), head + tail);
  const exactly128 = 'a'.repeat(64) + 'b'.repeat(64);
  assert.equal(sanitiseFilterName(exactly128), exactly128);
  const of129 = 'a'.repeat(64) + 'X' + 'b'.repeat(64);
  assert.equal(sanitiseFilterName(of129), 'a'.repeat(64) + 'b'.repeat(64));
  // The limit applies after sanitising: spaces do not count.
  const spaced = 'ab '.repeat(64); // 192 characters, 128 after sanitising
  assert.equal(sanitiseFilterName(spaced), 'ab'.repeat(64));
  // Distinct characters show exactly which ones are kept.
  const digits = Array.from({ length: 200 }, (_, i) => String.fromCharCode(65 + (i % 26))).join('');
  assert.equal(sanitiseFilterName(digits), digits.slice(0, 64) + digits.slice(-64));
  const topic = filterTopicName('nightjar', 3, digits);
  assert.equal(topic, `nightjar_3${digits.slice(0, 64)}${digits.slice(-64)}`);
  assert.equal(topic.length, 'nightjar_3'.length + 128);
});

test('a name with nothing left after sanitising is a clear error', () => {
  for (const name of ['', '   ', '!!! ???', '名前', '🌟🌟']) {
    assert.throws(() => filterTopicName('nightjar', 1, name), (err: unknown) => err instanceof UserError && /has no letters, digits/.test(err.message) && err.message.includes(`"${name}"`));
  }
});

test('bad prefixes, user ids and over-long topics are refused', () => {
  for (const prefix of ['', 'a b', 'é', 'x/y']) assert.throws(() => filterTopicName(prefix, 1, 'f'), UserError);
  for (const id of [-1, 1.5, Number.NaN, 'abc', '', '1e3', 2 ** 60]) assert.throws(() => filterTopicName('nightjar', id, 'f'), UserError);
  const prefix = 'p'.repeat(MAX_TOPIC_LENGTH - 128 - 2);
  assert.equal(filterTopicName(prefix, 1, 'n'.repeat(300)).length, MAX_TOPIC_LENGTH);
  assert.throws(() => filterTopicName(prefix + 'p', 1, 'n'.repeat(300)), (err: unknown) => err instanceof UserError && /Kafka allows 249/.test(err.message));
});

test('every name made from random text is a legal Kafka topic name (seeded)', () => {
  let seed = 12345;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  const alphabet = [...'abcXYZ019_-. \t!"#$%&/()=?*+~éßΩ名🌟\u0000\u200b'];
  let made = 0;
  for (let i = 0; i < 2000; i++) {
    const length = next() % 300;
    const name = Array.from({ length }, () => alphabet[next() % alphabet.length]).join('');
    let topic: string;
    try {
      topic = filterTopicName('nightjar', next() % 100000, name);
    } catch (err) {
      assert.ok(err instanceof UserError);
      assert.equal(sanitiseFilterName(name), '');
      continue;
    }
    made++;
    assert.match(topic, /^[A-Za-z0-9._-]+$/);
    assert.ok(topic.length <= MAX_TOPIC_LENGTH);
    assert.ok(sanitiseFilterName(name).length <= 128);
  }
  assert.ok(made > 1500, `only ${made} names were made`);
});
