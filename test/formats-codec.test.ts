// The compiled record codec against avsc (the reference) on edge values, and its own checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSchema } from '../src/formats/avro-schema.ts';
import { AvroBodyError } from '../src/formats/errors.ts';
import { recordCodec } from '../src/formats/record-codec.ts';

const longs = [0n, -1n, 1n, 63n, -64n, 64n, 8191n, -8192n, 2n ** 31n, -(2n ** 31n) - 1n, 2n ** 48n - 1n, 2n ** 48n, 2n ** 52n, -(2n ** 52n), 2n ** 52n + 1n, 2n ** 53n + 1n,
  169760235333878021n, 170587115523932323n, 3527242430321524769n, -3527242430321524769n, 2n ** 62n, 2n ** 63n - 1n, -(2n ** 63n)];

test('longs of every varint length round-trip exactly and match avsc', () => {
  const schema = parseSchema('"long"');
  const codec = recordCodec(schema);
  for (const n of longs) {
    const mine = codec.encode(n);
    assert.ok(mine.equals(schema.type.toBuffer(n)), `encoding of ${n}`);
    assert.equal(codec.decodeExact(mine), n);
    assert.equal(typeof codec.decodeExact(mine), 'bigint');
  }
  assert.throws(() => codec.encode(2n ** 63n), /expected long/);
  assert.throws(() => codec.encode(5), /expected long \(64-bit BigInt\), got number 5/);
  // An 11-byte varint, and a 10-byte one beyond 64 bits.
  assert.throws(() => codec.decode(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), /long varint/);
  assert.throws(() => codec.decode(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x03])), /exceeds 64 bits/);
});

test('ints are checked against 32 bits', () => {
  const schema = parseSchema('"int"');
  const codec = recordCodec(schema);
  for (const n of [0, -1, 1, 63, -64, 64, 2 ** 31 - 1, -(2 ** 31), 123456789]) {
    const mine = codec.encode(n);
    assert.ok(mine.equals(schema.type.toBuffer(n)), `encoding of ${n}`);
    assert.equal(codec.decodeExact(mine), n);
  }
  assert.throws(() => codec.encode(2 ** 31), /expected int/);
  assert.throws(() => codec.encode(1.5), /expected int/);
  assert.throws(() => codec.decode(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x1f])), /int varint exceeds 32 bits/);
});

const everything = parseSchema({
  type: 'record',
  name: 'everything',
  namespace: 'test',
  fields: [
    { name: 'n', type: 'null' },
    { name: 'b', type: 'boolean' },
    { name: 'i', type: 'int' },
    { name: 'l', type: 'long' },
    { name: 'f', type: 'float' },
    { name: 'd', type: 'double' },
    { name: 'by', type: 'bytes' },
    { name: 's', type: 'string' },
    { name: 'fx', type: { type: 'fixed', name: 'four', size: 4 } },
    { name: 'e', type: { type: 'enum', name: 'band', symbols: ['u', 'g', 'r', 'i', 'z', 'y'] } },
    { name: 'a', type: { type: 'array', items: ['null', 'double'] } },
    { name: 'm', type: { type: 'map', values: 'long' } },
    { name: 'numbers', type: ['null', 'float', 'double'] }, // ambiguous: avsc wraps it
    { name: 'ids', type: ['int', 'long'] }, // BigInt longs make this one unambiguous
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'nested', type: ['null', { type: 'record', name: 'inner', fields: [{ name: 'x', type: 'float' }, { name: '__proto__', type: 'string' }] }] },
  ],
});

test('every Avro type decodes to avsc values and re-encodes to identical bytes', () => {
  const value = {
    n: null,
    b: true,
    i: -7,
    l: 169760235333878021n,
    f: 1.5,
    d: Math.PI,
    by: Buffer.from('SIMPLE  ='),
    s: 'diaSource ünïcode',
    fx: Buffer.from([1, 2, 3, 4]),
    e: 'r',
    a: [1.25, null, NaN, -0],
    m: { g: 1n, r: -(2n ** 60n), __proto__: 7n },
    numbers: { float: 2.5 },
    ids: 12n,
    ts: 1735689600000n,
    nested: { x: -1, ['__proto__']: 'own property' },
  };
  // Object literals treat `__proto__` specially: make both keys own properties.
  Object.defineProperty(value.m, '__proto__', { value: 7n, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(value.nested, '__proto__', { value: 'own property', enumerable: true, writable: true, configurable: true });
  const codec = recordCodec(everything);
  const bytes = everything.type.toBuffer(value);
  assert.ok(codec.encode(value).equals(bytes), 'same bytes as avsc');
  const back = codec.decodeExact(bytes) as Record<string, unknown>;
  assert.ok(codec.encode(back).equals(bytes), 'round trip');
  assert.equal(back.l, 169760235333878021n);
  assert.equal(back.e, 'r');
  assert.deepEqual(back.numbers, { float: 2.5 });
  assert.equal(back.ids, 12n);
  assert.ok(Object.hasOwn(back.m as object, '__proto__') && Object.getPrototypeOf(back.m) === Object.prototype, 'map key __proto__ is data');
  assert.ok(Object.hasOwn(back.nested as object, '__proto__'), 'field __proto__ is data');
  assert.ok(Number.isNaN((back.a as number[])[2]));
  assert.ok(Object.is((back.a as number[])[3], -0));
  assert.equal(everything.type.isValid(back), true, 'avsc accepts the decoded value');
  // bytes and fixed are views of the input, not copies
  assert.equal((back.by as Buffer).buffer, bytes.buffer);
});

test('canonical NaNs round-trip; other NaN bit patterns still decode to NaN', () => {
  // Every NaN in the alert data is canonical (0x7fc00000 / 0x7ff8000000000000: Java's and
  // numpy's NaN). JS numbers do not reliably keep other NaN bits (sign, payload): V8 sometimes
  // does, sometimes canonicalises, so exact round trips are only promised for canonical NaNs.
  const codec = recordCodec(parseSchema({ type: 'record', name: 'nan', fields: [{ name: 'f', type: { type: 'array', items: 'float' } }, { name: 'd', type: 'double' }] }));
  const canonical = Buffer.from('04 0000c07f 0000c07f 00 000000000000f87f'.replaceAll(' ', ''), 'hex');
  for (let i = 0; i < 3; i++) assert.equal(codec.encode(codec.decodeExact(canonical)).toString('hex'), canonical.toString('hex'));
  const odd = codec.decodeExact(Buffer.from('04 0000c0ff 0100807f 00 010000000000f8ff'.replaceAll(' ', ''), 'hex')) as { f: number[]; d: number };
  assert.ok(Number.isNaN(odd.f[0]) && Number.isNaN(odd.f[1]) && Number.isNaN(odd.d));
});

test('wrapped union branches must be named correctly when encoding', () => {
  const codec = recordCodec(everything);
  const base = codec.decodeExact(everything.type.toBuffer({
    n: null, b: false, i: 0, l: 0n, f: 0, d: 0, by: Buffer.alloc(0), s: '', fx: Buffer.alloc(4), e: 'u', a: [], m: {}, numbers: null, ids: 1, ts: 0n, nested: null,
  })) as Record<string, unknown>;
  assert.equal(base.ids, 1);
  assert.throws(() => codec.encode({ ...base, numbers: 2.5 }), /numbers: expected null or an object with one key among float, double, got number 2.5/);
  assert.throws(() => codec.encode({ ...base, e: 'w' }), /e: expected one of the enum symbols u, g, r, i, z, y, got string w/);
  assert.throws(() => codec.encode({ ...base, fx: Buffer.alloc(3) }), /fx: expected fixed of 4 bytes/);
  assert.throws(() => codec.encode({ ...base, a: [1, 'x'] }), /a\[1\]: expected one of null, double, got string x/);
});

test('decoding errors carry the offset and the field path', () => {
  const codec = recordCodec(everything);
  const bytes = everything.type.toBuffer({
    n: null, b: true, i: 1, l: 2n, f: 3, d: 4, by: Buffer.from('xy'), s: 'abc', fx: Buffer.alloc(4), e: 'y', a: [1, 2, null], m: { k: 5n }, numbers: null, ids: 1, ts: 0n, nested: null,
  });
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.throws(() => codec.decodeExact(bytes.subarray(0, cut)), (err: unknown) => err instanceof AvroBodyError && err.offset <= cut && err.path.length > 0, `cut at ${cut}`);
  }
  const err = (() => {
    try {
      codec.decodeExact(bytes.subarray(0, 40));
    } catch (e) {
      return e as AvroBodyError;
    }
    return undefined;
  })();
  assert.ok(err !== undefined);
  assert.equal(err.path[0], 'a');
  assert.equal(typeof err.path[1], 'number', 'array index in the path');
});
