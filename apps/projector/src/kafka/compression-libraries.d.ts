// The two decompressors ship without types; only what compression-codecs.ts uses is declared.
declare module 'snappyjs' {
  /** Raw Snappy (no framing) to the bytes it holds, of the same kind as given. */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
}

declare module 'lz4js' {
  /** An LZ4 frame (magic 0x184D2204) to the bytes it holds. */
  export function decompress(frame: Uint8Array, maxSize?: number): Uint8Array;
}
