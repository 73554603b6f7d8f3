// Column arrays in PostgreSQL's binary array format, for `unnest($1::float8[], $2::int8[], ...)`:
// a batch travels as one parameter per column rather than as rows of placeholders. Binary, not
// the text literal '{1.5,NULL}': the server copies the values instead of parsing each one, and
// writing a number into a buffer costs far less than formatting it (pg sends a Buffer parameter
// in binary format as it is; the element type written here must be the one the SQL casts to).
//
// Layout (PostgreSQL's array_send): int32 dimensions (1, or 0 when empty), int32 has-nulls flag,
// int32 element type OID, then per dimension int32 length and int32 lower bound (1), then per
// element int32 byte length (-1 for NULL) and the element's binary form, big-endian.

const OID = { bool: 16, bytea: 17, int8: 20, int4: 23, text: 25, float8: 701 } as const;
type ElementType = keyof typeof OID;

const HEADER_BYTES = 20;

function header(buffer: Buffer, type: ElementType, count: number, hasNulls: boolean): number {
  if (count === 0) {
    buffer.writeInt32BE(0, 0);
    buffer.writeInt32BE(0, 4);
    buffer.writeInt32BE(OID[type], 8);
    return 12;
  }
  buffer.writeInt32BE(1, 0);
  buffer.writeInt32BE(hasNulls ? 1 : 0, 4);
  buffer.writeInt32BE(OID[type], 8);
  buffer.writeInt32BE(count, 12);
  buffer.writeInt32BE(1, 16);
  return HEADER_BYTES;
}

/** Fixed-width elements: 4 length bytes then `width` bytes each; `isNull(i)` elements take 4 bytes. */
function fixedWidth(type: ElementType, count: number, width: number, isNull: (i: number) => boolean, write: (buffer: Buffer, offset: number, i: number) => void): Buffer {
  let nulls = 0;
  for (let i = 0; i < count; i++) if (isNull(i)) nulls++;
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + count * (4 + width) - nulls * width);
  let offset = header(buffer, type, count, nulls > 0);
  for (let i = 0; i < count; i++) {
    if (isNull(i)) {
      buffer.writeInt32BE(-1, offset);
      offset += 4;
    } else {
      buffer.writeInt32BE(width, offset);
      write(buffer, offset + 4, i);
      offset += 4 + width;
    }
  }
  return buffer.subarray(0, offset);
}

/** float8[]: NaN, null and undefined become NULL (the Alert model has no NaN; batch-rows uses NaN for null). */
export function float8Array(values: ArrayLike<number | null | undefined>): Buffer {
  const isNull = (i: number): boolean => {
    const v = values[i];
    return v === null || v === undefined || Number.isNaN(v);
  };
  return fixedWidth('float8', values.length, 8, isNull, (b, o, i) => b.writeDoubleBE(values[i] as number, o));
}

/** int4[]: integers within 32 bits. */
export function int4Array(values: ArrayLike<number | null | undefined>): Buffer {
  const isNull = (i: number): boolean => values[i] === null || values[i] === undefined;
  return fixedWidth('int4', values.length, 4, isNull, (b, o, i) => b.writeInt32BE(values[i] as number, o));
}

/** int8[]: BigInt values (numbers are refused: a 64-bit id must never have been a JavaScript number). */
export function int8Array(values: ArrayLike<bigint | null | undefined>): Buffer {
  const isNull = (i: number): boolean => values[i] === null || values[i] === undefined;
  return fixedWidth('int8', values.length, 8, isNull, (b, o, i) => {
    const v = values[i];
    if (typeof v !== 'bigint') throw new Error(`int8 array element ${i}: expected a BigInt, got ${typeof v}`);
    b.writeBigInt64BE(v, o);
  });
}

/** bool[]: booleans, or numbers where non-zero is true (batch-rows' Uint8Array columns). */
export function boolArray(values: ArrayLike<boolean | number | null | undefined>): Buffer {
  const isNull = (i: number): boolean => values[i] === null || values[i] === undefined;
  return fixedWidth('bool', values.length, 1, isNull, (b, o, i) => b.writeUInt8(values[i] === true || (typeof values[i] === 'number' && values[i] !== 0) ? 1 : 0, o));
}

/** Variable-width elements: each one's bytes, or null. */
function variableWidth(type: ElementType, elements: readonly (Uint8Array | null)[]): Buffer {
  let size = HEADER_BYTES;
  let nulls = false;
  for (const e of elements) {
    size += 4 + (e === null ? 0 : e.length);
    if (e === null) nulls = true;
  }
  const buffer = Buffer.allocUnsafe(size);
  let offset = header(buffer, type, elements.length, nulls);
  for (const e of elements) {
    if (e === null) {
      buffer.writeInt32BE(-1, offset);
      offset += 4;
    } else {
      buffer.writeInt32BE(e.length, offset);
      buffer.set(e, offset + 4);
      offset += 4 + e.length;
    }
  }
  return buffer.subarray(0, offset);
}

/** text[]: UTF-8 (the connection's client encoding, pg's default). */
export function textArray(values: readonly (string | null | undefined)[]): Buffer {
  return variableWidth('text', values.map((v, i) => {
    if (v === null || v === undefined) return null;
    if (typeof v !== 'string') throw new Error(`text array element ${i}: expected text, got ${typeof v}`);
    return Buffer.from(v, 'utf8');
  }));
}

/** bytea[]: the bytes as they are. */
export function byteaArray(values: readonly (Uint8Array | null | undefined)[]): Buffer {
  return variableWidth('bytea', values.map((v) => v ?? null));
}
