import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, stringify } from '../src/util/json.ts';

test('64-bit ids are written as bare digits and read back exactly', () => {
  const id = 169760235333878021n;
  const text = stringify({ diaObjectId: id, ra: 1.5 });
  assert.equal(text, '{"diaObjectId":169760235333878021,"ra":1.5}');
  const back = parse(text) as { diaObjectId: bigint; ra: number };
  assert.equal(back.diaObjectId, id);
  assert.equal(back.ra, 1.5);
});

test('the Fink rounding bug does not happen', () => {
  const back = parse('[170587115523932323, 12, -9223372036854775808]') as unknown[];
  assert.deepEqual(back, [170587115523932323n, 12, -9223372036854775808n]);
});

test('bytes (Buffers included) are summarised by size, not dumped', () => {
  const text = stringify({ cutout: Buffer.from('SIMPLE  ='), raw: new Uint8Array(3) });
  assert.equal(text, '{"cutout":{"$bytes":9},"raw":{"$bytes":3}}');
});
