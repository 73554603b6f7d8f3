// JSON that keeps 64-bit integers exact: BigInt is written as bare digits, and integers
// beyond 2^53 are read back as BigInt (a JavaScript number would silently round them).

type Replacer = (this: unknown, key: string, value: unknown) => unknown;

// JSON.stringify calls Buffer#toJSON before the replacer, so bytes are recognised on the
// holder (`this[key]`), not on the value passed in.
const bigintReplacer: Replacer = function (this: unknown, key, value) {
  if (typeof value === 'bigint') return JSON.rawJSON(value.toString());
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Uint8Array) return { $bytes: original.length };
  return value;
};

/** Serialises a value; BigInt becomes bare integer digits, bytes become {"$bytes": length}. */
export function stringify(value: unknown, indent?: number): string {
  return JSON.stringify(value, bigintReplacer, indent);
}

/** Like {@link stringify} but writes bytes as base64 strings (lossless). */
export function stringifyWithBytes(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    function (this: unknown, key: string, v: unknown) {
      if (typeof v === 'bigint') return JSON.rawJSON(v.toString());
      const original = (this as Record<string, unknown>)[key];
      if (original instanceof Uint8Array) return Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64');
      return v;
    },
    indent,
  );
}

const integerSource = /^-?\d+$/;

/** Parses JSON; integers outside the safe range come back as BigInt, exactly. */
export function parse(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) => {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source !== undefined && integerSource.test(context.source)) {
      return BigInt(context.source);
    }
    return value;
  });
}
