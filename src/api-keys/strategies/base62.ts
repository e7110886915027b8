const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE = 62n;

/** Base62 of an unsigned big-endian byte string, left-padded with '0' to `width` characters. */
export function base62FromBytes(bytes: Uint8Array, width: number): string {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return base62FromBigInt(value, width);
}

export function base62FromBigInt(value: bigint, width: number): string {
  let out = '';
  let rest = value;
  while (rest > 0n) {
    out = ALPHABET[Number(rest % BASE)] + out;
    rest /= BASE;
  }
  if (out.length > width) throw new RangeError(`value needs ${out.length} base62 characters, more than ${width}`);
  return out.padStart(width, '0');
}

/** Base62 of a non-negative safe integer (such as a CRC32), left-padded to `width`: no BigInt on the hot path. */
export function base62FromNumber(value: number, width: number): string {
  let out = '';
  let rest = value;
  while (rest > 0) {
    out = ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  if (out.length > width) throw new RangeError(`value needs ${out.length} base62 characters, more than ${width}`);
  return out.padStart(width, '0');
}

