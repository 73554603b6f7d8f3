// Avro binary encoding of one record body, compiled once per schema into straight-line JS.
//
// Why not avsc's own fromBuffer/toBuffer: avsc trusts its input (a corrupt array count makes
// it loop and allocate until memory runs out, a bad length walks past the buffer), reports no
// offset, copies every `bytes` value and decodes each long through an 8-byte scratch buffer.
// This codec checks every length and count against the bytes left before using it, throws
// AvroBodyError with the offset and field path, returns `bytes` as zero-copy views of the
// input, and reads 64-bit longs straight into BigInt. Values have exactly avsc's shape (it is
// compiled from the avsc Type tree: same union wrapping, BigInt longs, Buffers, enum strings),
// so `schema.type.toBuffer(record)` and this codec's `encode` agree byte for byte.
// Floats, doubles, booleans and two-branch union indexes are read by inline generated code:
// V8 stops inlining method calls into the big functions of 100-field records, and these are
// most of the values in an alert history (measured: +60% on history-heavy Rubin alerts).
//
// Round trips are exact for every value a JS number can hold. NaN is the one gap: a JS number
// does not reliably keep a NaN's sign and payload bits (V8 sometimes keeps them, sometimes
// canonicalises; the CPU quiets signalling float32 NaNs), so only canonical NaNs (0x7fc00000,
// 0x7ff8000000000000: Java's and numpy's NaN) are promised to come back bit for bit. Every NaN
// in the alert data under shared/data is canonical (checked over every file).
import type { Type } from 'avsc';
import type { ParsedSchema } from './avro-schema.ts';
import { AvroBodyError, EncodeError } from './errors.ts';

/** Items of zero bytes (null, empty records) cannot be bounded by the input size: at most this many per record. */
const MAX_ZERO_SIZE_ITEMS = 1_000_000;

// 64-bit longs beyond 2^49 are assembled as two 32-bit words and read back as one BigInt:
// one BigInt allocation instead of a handful of BigInt operations.
const longWords = new Uint32Array(2);
const longValue = new BigInt64Array(longWords.buffer);
const LOW_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
const TWO_32 = 4294967296;
/** The values of one-byte longs (-64..63), allocated once: zeros and small flags are common. */
const ONE_BYTE_LONGS = Array.from({ length: 128 }, (_, b) => BigInt((b >>> 1) ^ -(b & 1)));

/** Cursor over one record body; every read checks the bytes left first. */
export class AvroReader {
  buf: Buffer;
  pos: number;
  end: number;
  readonly view: DataView;
  private zeroSizeItemsLeft = MAX_ZERO_SIZE_ITEMS;

  constructor(buf: Buffer, pos: number, end: number) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(reason: string, at = this.pos): never {
    throw new AvroBodyError(at, reason);
  }

  bool(): boolean {
    if (this.pos >= this.end) this.fail('truncated: boolean expected');
    const b = this.buf[this.pos] as number;
    if (b > 1) this.fail(`boolean byte is ${b}, not 0 or 1`);
    this.pos++;
    return b === 1;
  }

  int(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    if (pos >= end) this.fail('truncated: int expected');
    let b = buf[pos++] as number;
    if (b < 0x80) {
      this.pos = pos;
      return (b >>> 1) ^ -(b & 1);
    }
    let n = b & 0x7f;
    let shift = 7;
    do {
      if (pos >= end) this.fail('truncated inside an int');
      b = buf[pos++] as number;
      n |= (b & 0x7f) << shift;
      shift += 7;
    } while (b >= 0x80 && shift < 35);
    if (b >= 0x80 || (shift === 35 && b > 0x0f)) this.fail('int varint exceeds 32 bits', this.pos);
    this.pos = pos;
    return (n >>> 1) ^ -(n & 1);
  }

  long(): bigint {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    if (pos >= end) this.fail('truncated: long expected');
    let b = buf[pos++] as number;
    if (b < 0x80) {
      this.pos = pos;
      return ONE_BYTE_LONGS[b] as bigint;
    }
    // Up to 7 bytes (49 bits) fit a double exactly; the rest go through BigInt.
    let low = b & 0x7f;
    let mul = 128;
    for (let i = 1; i < 7; i++) {
      if (pos >= end) this.fail('truncated inside a long');
      b = buf[pos++] as number;
      low += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = pos;
        return BigInt(low % 2 === 1 ? -(low + 1) / 2 : low / 2);
      }
      mul *= 128;
    }
    let high = 0;
    let highMul = 1;
    for (let i = 7; i < 10; i++) {
      if (pos >= end) this.fail('truncated inside a long');
      b = buf[pos++] as number;
      high += (b & 0x7f) * highMul;
      if (b < 0x80) {
        if (i === 9 && b > 1) this.fail('long varint exceeds 64 bits', this.pos);
        this.pos = pos;
        // unsigned = high·2^49 + low as two 32-bit words, then zig-zag: (u >>> 1) ^ -(u & 1).
        const ulo = low >>> 0;
        const uhi = (Math.floor(low / TWO_32) + high * 131072) >>> 0;
        const sign = -(ulo & 1);
        longWords[LOW_WORD] = ((ulo >>> 1) | (uhi << 31)) ^ sign;
        longWords[1 - LOW_WORD] = (uhi >>> 1) ^ sign;
        return longValue[0] as bigint;
      }
      highMul *= 128;
    }
    return this.fail('long varint longer than 10 bytes');
  }

  /** A long used as a length, count or index: exact up to 2^53, which is all that matters here. */
  private smallLong(what: string): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    if (pos >= end) this.fail(`truncated: ${what} expected`);
    let b = buf[pos++] as number;
    if (b < 0x80) {
      this.pos = pos;
      return (b >>> 1) ^ -(b & 1);
    }
    let n = b & 0x7f;
    let mul = 128;
    for (let i = 1; i < 10; i++) {
      if (pos >= end) this.fail(`truncated inside ${what}`);
      b = buf[pos++] as number;
      n += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = pos;
        return n % 2 === 1 ? -(n + 1) / 2 : n / 2;
      }
      mul *= 128;
    }
    return this.fail(`${what} varint longer than 10 bytes`);
  }

  private length(what: string): number {
    const at = this.pos;
    const n = this.smallLong(`${what} length`);
    if (n < 0) this.fail(`negative ${what} length ${n}`, at);
    if (n > this.end - this.pos) this.fail(`${what} length ${n} exceeds the ${this.end - this.pos} bytes left`, at);
    return n;
  }

  float(): number {
    if (this.end - this.pos < 4) this.fail('truncated: float expected');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    if (this.end - this.pos < 8) this.fail('truncated: double expected');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Zero-copy: a view of the input buffer. */
  bytes(): Buffer {
    const n = this.length('bytes');
    const start = this.pos;
    this.pos = start + n;
    return this.buf.subarray(start, start + n);
  }

  string(): string {
    const n = this.length('string');
    const start = this.pos;
    this.pos = start + n;
    return this.buf.toString('utf8', start, start + n);
  }

  fixed(size: number): Buffer {
    if (this.end - this.pos < size) this.fail(`truncated: fixed of ${size} bytes expected`);
    const start = this.pos;
    this.pos = start + size;
    return this.buf.subarray(start, start + size);
  }

  /** Enum symbol or union branch index, checked against the number of choices. */
  index(count: number, what: string): number {
    // The usual case, kept small so it inlines: a one-byte non-negative index in range.
    const at = this.pos;
    const b = at < this.end ? (this.buf[at] as number) : 0x80;
    if (b < 0x80 && (b & 1) === 0 && b < count * 2) {
      this.pos = at + 1;
      return b >>> 1;
    }
    return this.indexSlow(count, what);
  }

  /** A two-branch union index that is not the byte 0 or 2: reports it (or reads a non-minimal varint). */
  badIndex(count: number): never {
    const at = this.pos;
    const i = this.indexSlow(count, 'union');
    return this.fail(`union index ${i} is not written as one byte`, at);
  }

  private indexSlow(count: number, what: string): number {
    const at = this.pos;
    const i = this.int();
    if (i < 0 || i >= count) this.fail(`${what} index ${i} out of range 0..${count - 1}`, at);
    return i;
  }

  /** Item count of the next array/map block (0 = end), bounded by the bytes left. */
  blockCount(minItemSize: number): number {
    const at = this.pos;
    let n = this.smallLong('block count');
    if (n < 0) {
      n = -n;
      const size = this.smallLong('block size');
      if (size < 0 || size > this.end - this.pos) this.fail(`block size ${size} exceeds the ${this.end - this.pos} bytes left`, at);
    }
    if (n > 0) {
      const room = this.end - this.pos;
      if (minItemSize > 0 ? n * minItemSize > room : n > this.zeroSizeItemsLeft) {
        this.fail(`block of ${n} items cannot fit in the ${room} bytes left`, at);
      }
      if (minItemSize === 0) this.zeroSizeItemsLeft -= n;
    }
    return n;
  }
}

/** Problem found while encoding; turned into EncodeError with the field path at the top. */
class EncodeIssue extends Error {
  readonly path: (string | number)[] = [];
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'bigint') return `bigint ${v}`;
  if (v instanceof Uint8Array) return `bytes[${v.length}]`;
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  const text = String(v);
  return `${typeof v} ${text.length > 40 ? text.slice(0, 40) + '…' : text}`;
}

function issue(expected: string, v: unknown): EncodeIssue {
  return new EncodeIssue(`expected ${expected}, got ${describe(v)}`);
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** Growable output buffer; one is reused for every encode (encoding is synchronous). */
export class AvroWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Varint of a non-negative integer below 2^53 (callers zig-zag: a length n is written as 2n). */
  varint(z: number): void {
    this.reserve(8);
    const buf = this.buf;
    let pos = this.pos;
    while (z >= 0x80) {
      buf[pos++] = (z % 128) | 0x80;
      z = Math.floor(z / 128);
    }
    buf[pos++] = z;
    this.pos = pos;
  }

  bool(v: unknown): void {
    if (typeof v !== 'boolean') throw issue('boolean', v);
    this.reserve(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int(v: unknown): void {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < INT_MIN || v > INT_MAX) throw issue('int (32-bit integer number)', v);
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  long(v: unknown): void {
    if (typeof v !== 'bigint') throw issue('long (64-bit BigInt)', v);
    const n = Number(v);
    // Below 2^52 in magnitude the zig-zag value 2|n| (+1) is still an exact double.
    if (n < 4503599627370496 && n > -4503599627370496) {
      this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
      return;
    }
    if (v < LONG_MIN || v > LONG_MAX) throw issue('long (64-bit BigInt)', v);
    // Zig-zag on two 32-bit halves: three BigInt operations instead of one per 7 bits.
    const hi = Number(BigInt.asIntN(32, v >> 32n));
    const lo = Number(BigInt.asUintN(32, v));
    const sign = hi >> 31;
    let zhi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
    let zlo = ((lo << 1) ^ sign) >>> 0;
    this.reserve(10);
    const buf = this.buf;
    let pos = this.pos;
    while (zhi !== 0 || zlo >= 0x80) {
      buf[pos++] = (zlo & 0x7f) | 0x80;
      zlo = ((zlo >>> 7) | (zhi << 25)) >>> 0;
      zhi >>>= 7;
    }
    buf[pos++] = zlo;
    this.pos = pos;
  }

  float(v: unknown): void {
    if (typeof v !== 'number') throw issue('float (number)', v);
    this.reserve(4);
    this.buf.writeFloatLE(v, this.pos);
    this.pos += 4;
  }

  double(v: unknown): void {
    if (typeof v !== 'number') throw issue('double (number)', v);
    this.reserve(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  bytes(v: unknown): void {
    if (!(v instanceof Uint8Array)) throw issue('bytes (Buffer)', v);
    this.varint(v.length * 2);
    this.reserve(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  string(v: unknown): void {
    if (typeof v !== 'string') throw issue('string', v);
    const n = Buffer.byteLength(v);
    this.varint(n * 2);
    this.reserve(n);
    this.pos += this.buf.write(v, this.pos, n, 'utf8');
  }

  fixed(v: unknown, size: number): void {
    if (!(v instanceof Uint8Array) || v.length !== size) throw issue(`fixed of ${size} bytes`, v);
    this.reserve(size);
    this.buf.set(v, this.pos);
    this.pos += size;
  }

  symbol(index: number | undefined, v: unknown, symbols: readonly string[]): void {
    if (index === undefined) throw issue(`one of the enum symbols ${symbols.slice(0, 8).join(', ')}${symbols.length > 8 ? ', …' : ''}`, v);
    this.varint(index * 2);
  }
}

// --- compilation -------------------------------------------------------------------------

/** The avsc Type properties the compiler reads (avsc's typings do not expose them all). */
interface TypeNode {
  readonly typeName: string;
  readonly name?: string;
  readonly branchName?: string;
  readonly fields?: readonly { readonly name: string; readonly type: TypeNode; defaultValue(): unknown }[];
  readonly itemsType?: TypeNode;
  readonly valuesType?: TypeNode;
  readonly types?: readonly TypeNode[];
  readonly symbols?: readonly string[];
  readonly size?: number;
}

type Decoder = (r: AvroReader) => unknown;
type Encoder = (w: AvroWriter, v: unknown) => void;

function minSize(t: TypeNode, visiting = new Set<TypeNode>()): number {
  switch (t.typeName) {
    case 'null': return 0;
    case 'float': return 4;
    case 'double': return 8;
    case 'fixed': return t.size ?? 0;
    case 'record': case 'error': {
      if (visiting.has(t)) return 0;
      visiting.add(t);
      const size = (t.fields ?? []).reduce((sum, f) => sum + minSize(f.type, visiting), 0);
      visiting.delete(t);
      return size;
    }
    default: return 1; // every varint, length, count and branch index takes at least one byte
  }
}

const key = (name: string): string => (name === '__proto__' ? `[${JSON.stringify(name)}]` : JSON.stringify(name));

/** A predicate (JS source over `x`) telling which unwrapped-union branch a value belongs to. */
function branchTest(t: TypeNode, x: string): string {
  switch (t.typeName) {
    case 'null': return `${x} === null`;
    case 'boolean': return `typeof ${x} === 'boolean'`;
    case 'int': case 'float': case 'double': return `typeof ${x} === 'number'`;
    case 'abstract:long': return `typeof ${x} === 'bigint'`;
    case 'string': case 'enum': return `typeof ${x} === 'string'`;
    case 'bytes': case 'fixed': return `${x} instanceof Uint8Array`;
    case 'array': return `Array.isArray(${x})`;
    default: return `typeof ${x} === 'object' && ${x} !== null && !Array.isArray(${x}) && !(${x} instanceof Uint8Array)`;
  }
}

class Compiler {
  private readonly consts: unknown[] = [];
  private readonly code: string[] = [];
  private readonly decoders = new Map<TypeNode, string>();
  private readonly encoders = new Map<TypeNode, string>();

  compileDecoder(root: TypeNode): Decoder {
    const entry = `function decodeRoot(r) { return ${this.read(root)}; }`;
    return this.build(entry, 'decodeRoot') as Decoder;
  }

  compileEncoder(root: TypeNode): Encoder {
    const entry = `function encodeRoot(w, v) { ${this.write(root, 'v')} }`;
    return this.build(entry, 'encodeRoot') as Encoder;
  }

  private build(entry: string, name: string): unknown {
    const body = `'use strict';\n${this.code.join('\n')}\n${entry}\nreturn ${name};`;
    // Generated from the parsed schema; every name in it is JSON-quoted.
    const factory = new Function('K', 'atRead', 'atWrite', 'issue', body) as (...args: unknown[]) => unknown;
    return factory(this.consts, atRead, atWrite, issue);
  }

  private constant(value: unknown): string {
    this.consts.push(value);
    return `K[${this.consts.length - 1}]`;
  }

  // Decoding: an expression reading one value of type t from reader `r`.
  private read(t: TypeNode): string {
    switch (t.typeName) {
      case 'null': return 'null';
      case 'boolean': return '(r.pos < r.end && r.buf[r.pos] <= 1 ? r.buf[r.pos++] === 1 : r.bool())';
      case 'int': return 'r.int()';
      case 'abstract:long': return 'r.long()';
      // Inline fast paths (see the top of the file); the methods handle truncation.
      case 'float': return "(r.end - r.pos >= 4 ? r.view.getFloat32((r.pos += 4) - 4, true) : r.float())";
      case 'double': return "(r.end - r.pos >= 8 ? r.view.getFloat64((r.pos += 8) - 8, true) : r.double())";
      case 'bytes': return 'r.bytes()';
      case 'string': return 'r.string()';
      case 'fixed': return `r.fixed(${t.size ?? 0})`;
      case 'enum': return `${this.constant(t.symbols)}[r.index(${t.symbols?.length ?? 0}, 'enum')]`;
      case 'union:unwrapped': {
        const types = t.types ?? [];
        // Two branches (["null", X] nearly always): the branch byte is tested inline.
        if (types.length === 2) return `(r.pos < r.end && r.buf[r.pos] === 0 ? (r.pos++, ${this.read(types[0] as TypeNode)}) : r.pos < r.end && r.buf[r.pos] === 2 ? (r.pos++, ${this.read(types[1] as TypeNode)}) : r.badIndex(2))`;
        return `${this.decoderFn(t)}(r)`;
      }
      case 'long': throw new Error('long type without BigInt representation: parse schemas with parseSchema()');
      default: return `${this.decoderFn(t)}(r)`;
    }
  }

  private decoderFn(t: TypeNode): string {
    const existing = this.decoders.get(t);
    if (existing !== undefined) return existing;
    const name = `d${this.decoders.size}`;
    this.decoders.set(t, name);
    switch (t.typeName) {
      case 'record': case 'error': {
        const fields = t.fields ?? [];
        const names = this.constant(fields.map((f) => f.name));
        const props = fields.map((f, i) => `${key(f.name)}: (f = ${i}, ${this.read(f.type)})`).join(',\n    ');
        this.code.push(`function ${name}(r) {\n  let f = 0;\n  try {\n    return {\n    ${props}\n    };\n  } catch (e) { throw atRead(e, ${names}[f], r); }\n}`);
        break;
      }
      case 'array': {
        const item = t.itemsType as TypeNode;
        const min = minSize(item);
        this.code.push(`function ${name}(r) {\n  const out = [];\n  try {\n    for (let n = r.blockCount(${min}); n !== 0; n = r.blockCount(${min})) {\n      for (let k = 0; k < n; k++) out.push(${this.read(item)});\n    }\n  } catch (e) { throw atRead(e, out.length, r); }\n  return out;\n}`);
        break;
      }
      case 'map': {
        const value = t.valuesType as TypeNode;
        const min = 1 + minSize(value);
        this.code.push(`function ${name}(r) {\n  const out = {};\n  let key = '';\n  try {\n    for (let n = r.blockCount(${min}); n !== 0; n = r.blockCount(${min})) {\n      for (let k = 0; k < n; k++) {\n        key = r.string();\n        const v = ${this.read(value)};\n        if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });\n        else out[key] = v;\n      }\n    }\n  } catch (e) { throw atRead(e, key, r); }\n  return out;\n}`);
        break;
      }
      case 'union:unwrapped': {
        const types = t.types ?? [];
        const cases = types.map((b, i) => `    case ${i}: return ${this.read(b)};`).join('\n');
        this.code.push(`function ${name}(r) {\n  switch (r.index(${types.length}, 'union')) {\n${cases}\n  }\n}`);
        break;
      }
      case 'union:wrapped': {
        const types = t.types ?? [];
        const cases = types
          .map((b, i) => `    case ${i}: return ${b.typeName === 'null' ? 'null' : `{ ${key(b.branchName ?? b.typeName)}: ${this.read(b)} }`};`)
          .join('\n');
        this.code.push(`function ${name}(r) {\n  switch (r.index(${types.length}, 'union')) {\n${cases}\n  }\n}`);
        break;
      }
      default:
        throw new Error(`cannot compile Avro type ${t.typeName}`);
    }
    return name;
  }

  // Encoding: statements writing the value held in variable `x` to writer `w`.
  private write(t: TypeNode, x: string): string {
    switch (t.typeName) {
      case 'null': return `if (${x} !== null) throw issue('null', ${x});`;
      case 'boolean': return `w.bool(${x});`;
      case 'int': return `w.int(${x});`;
      case 'abstract:long': return `w.long(${x});`;
      case 'float': return `w.float(${x});`;
      case 'double': return `w.double(${x});`;
      case 'bytes': return `w.bytes(${x});`;
      case 'string': return `w.string(${x});`;
      case 'fixed': return `w.fixed(${x}, ${t.size ?? 0});`;
      case 'enum': {
        const symbols = t.symbols ?? [];
        const index = this.constant(new Map(symbols.map((s, i) => [s, i])));
        return `w.symbol(${index}.get(${x}), ${x}, ${this.constant(symbols)});`;
      }
      case 'long': throw new Error('long type without BigInt representation: parse schemas with parseSchema()');
      default: return `${this.encoderFn(t)}(w, ${x});`;
    }
  }

  private encoderFn(t: TypeNode): string {
    const existing = this.encoders.get(t);
    if (existing !== undefined) return existing;
    const name = `e${this.encoders.size}`;
    this.encoders.set(t, name);
    switch (t.typeName) {
      case 'record': case 'error': {
        const fields = t.fields ?? [];
        const names = this.constant(fields.map((f) => f.name));
        const steps = fields.map((f, i) => {
          const fallback = f.defaultValue();
          const missing = fallback === undefined ? `throw new Error('missing field')` : `x = ${this.constant(fallback)}`;
          return `    f = ${i}; x = v[${JSON.stringify(f.name)}]; if (x === undefined) ${missing};\n    ${this.write(f.type, 'x')}`;
        });
        this.code.push(`function ${name}(w, v) {\n  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw issue(${JSON.stringify(`record ${t.name ?? ''}`)}, v);\n  let f = 0, x;\n  try {\n${steps.join('\n')}\n  } catch (e) { throw atWrite(e, ${names}[f]); }\n}`);
        break;
      }
      case 'array': {
        const item = t.itemsType as TypeNode;
        this.code.push(`function ${name}(w, v) {\n  if (!Array.isArray(v)) throw issue('array', v);\n  let i = 0;\n  try {\n    if (v.length > 0) {\n      w.varint(v.length * 2);\n      for (; i < v.length; i++) { const x = v[i]; ${this.write(item, 'x')} }\n    }\n    w.varint(0);\n  } catch (e) { throw atWrite(e, i); }\n}`);
        break;
      }
      case 'map': {
        const value = t.valuesType as TypeNode;
        this.code.push(`function ${name}(w, v) {\n  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw issue('map (object)', v);\n  const keys = Object.keys(v);\n  let k = '';\n  try {\n    if (keys.length > 0) {\n      w.varint(keys.length * 2);\n      for (k of keys) { w.string(k); const x = v[k]; ${this.write(value, 'x')} }\n    }\n    w.varint(0);\n  } catch (e) { throw atWrite(e, k); }\n}`);
        break;
      }
      case 'union:unwrapped': {
        const types = t.types ?? [];
        const tests = types.map((b, i) => `  if (${branchTest(b, 'v')}) { w.varint(${i * 2}); ${this.write(b, 'v')} return; }`).join('\n');
        const expected = JSON.stringify(`one of ${types.map((b) => b.branchName ?? b.typeName).join(', ')}`);
        this.code.push(`function ${name}(w, v) {\n${tests}\n  throw issue(${expected}, v);\n}`);
        break;
      }
      case 'union:wrapped': {
        const types = t.types ?? [];
        const nullIndex = types.findIndex((b) => b.typeName === 'null');
        const cases = types
          .map((b, i) => (b.typeName === 'null' ? '' : `    case ${JSON.stringify(b.branchName ?? b.typeName)}: { w.varint(${i * 2}); const x = v[keys[0]]; ${this.write(b, 'x')} return; }`))
          .filter((c) => c !== '')
          .join('\n');
        const expected = JSON.stringify(`${nullIndex >= 0 ? 'null or ' : ''}an object with one key among ${types.filter((b) => b.typeName !== 'null').map((b) => b.branchName ?? b.typeName).join(', ')}`);
        this.code.push(`function ${name}(w, v) {\n  if (v === null) { ${nullIndex >= 0 ? `w.varint(${nullIndex * 2}); return;` : `throw issue(${expected}, v);`} }\n  const keys = typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) ? Object.keys(v) : [];\n  if (keys.length === 1) switch (keys[0]) {\n${cases}\n  }\n  throw issue(${expected}, v);\n}`);
        break;
      }
      default:
        throw new Error(`cannot compile Avro type ${t.typeName}`);
    }
    return name;
  }
}

/** Adds a field name or array index to the path of an error thrown while decoding. */
function atRead(e: unknown, step: string | number, r: AvroReader): AvroBodyError {
  const err = e instanceof AvroBodyError ? e : new AvroBodyError(r.pos, e instanceof Error ? e.message : String(e));
  err.path.unshift(step);
  return err;
}

function atWrite(e: unknown, step: string | number): EncodeIssue {
  const err = e instanceof EncodeIssue ? e : new EncodeIssue(e instanceof Error ? e.message : String(e));
  err.path.unshift(step);
  return err;
}

/** Renders a field path: `diaSource.psfFlux`, `prvDiaSources[3].band`. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export interface RecordCodec {
  readonly schema: ParsedSchema;
  /** Fewest bytes one record can take (bounds record counts read from a container block). */
  readonly minSize: number;
  /**
   * Decodes one value starting at `start` (reading no further than `end`); returns it and the
   * offset after it. Throws AvroBodyError (offset, field path) on truncated or corrupt input.
   */
  decode(buf: Buffer, start?: number, end?: number): { value: unknown; end: number };
  /** Like decode, but the value must end exactly at `end` (trailing bytes are an error). */
  decodeExact(buf: Buffer, start?: number, end?: number): unknown;
  /** Encodes one value to a new Buffer. Throws EncodeError naming the field path. */
  encode(value: unknown): Buffer;
}

const codecs = new WeakMap<Type, RecordCodec>();
const scratch = new AvroWriter();

/** The compiled codec of a parsed schema (compiled on first use, then cached). */
export function recordCodec(schema: ParsedSchema): RecordCodec {
  const cached = codecs.get(schema.type);
  if (cached !== undefined) return cached;
  const root = schema.type as unknown as TypeNode;
  const decode = new Compiler().compileDecoder(root);
  // Most schemas are only ever read: the encoder is compiled on first use.
  let encode: Encoder | undefined;
  const codec: RecordCodec = {
    schema,
    minSize: minSize(root),
    decode(buf, start = 0, end = buf.length) {
      const r = new AvroReader(buf, start, end);
      try {
        const value = decode(r);
        return { value, end: r.pos };
      } catch (e) {
        throw e instanceof AvroBodyError ? e : new AvroBodyError(r.pos, e instanceof Error ? e.message : String(e));
      }
    },
    decodeExact(buf, start = 0, end = buf.length) {
      const result = codec.decode(buf, start, end);
      if (result.end !== end) {
        throw new AvroBodyError(result.end, `${end - result.end} trailing bytes after the record`);
      }
      return result.value;
    },
    encode(value) {
      encode ??= new Compiler().compileEncoder(root);
      scratch.pos = 0;
      try {
        encode(scratch, value);
      } catch (e) {
        const path = e instanceof EncodeIssue ? formatPath(e.path) : '';
        throw new EncodeError(schema.name, path, e instanceof Error ? e.message : String(e));
      }
      // allocUnsafe + copy: Buffer.from(view) zero-fills a fresh allocation first.
      const out = Buffer.allocUnsafe(scratch.pos);
      scratch.buf.copy(out, 0, 0, scratch.pos);
      return out;
    },
  };
  codecs.set(schema.type, codec);
  return codec;
}
