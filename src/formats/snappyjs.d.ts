// snappyjs ships no type declarations; only the two functions Nightjar uses are declared.
declare module 'snappyjs' {
  /** Raw snappy decompression; rejects a declared uncompressed length above `maxLength`. */
  export function uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
  /** Raw snappy compression. */
  export function compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
}
