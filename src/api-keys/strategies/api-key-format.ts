import { crc32 } from 'node:zlib';
import { base62FromNumber } from './base62.js';

export type KeyEnvironment = 'live' | 'test';

/** 32 random bytes need 43 base62 characters (62^43 > 2^256). */
export const RANDOM_BYTES = 32;
export const RANDOM_CHARS = 43;
/** CRC32 fits in 6 base62 characters (62^6 > 2^32). */
export const CHECKSUM_CHARS = 6;

/**
 * The regular expression secret scanners (GitHub secret scanning, gitleaks, trufflehog) can use
 * to find Keysmith keys with the default prefixes. Published in the README and the OpenAPI
 * description; the checksum lets a scanner drop false positives without calling Keysmith.
 */
export const DEFAULT_KEY_PATTERN = String.raw`\bsk_(?:live|test)_[0-9A-Za-z]{49}\b`;

/** The checksum of everything before it: CRC32 as 6 base62 characters. */
export function checksumOf(body: string): string {
  return base62FromNumber(crc32(body), CHECKSUM_CHARS);
}

const TAIL = new RegExp(`^[0-9A-Za-z]{${RANDOM_CHARS + CHECKSUM_CHARS}}$`);

export interface ParsedKey {
  environment: KeyEnvironment;
  prefix: string;
}

/**
 * The environment whose prefix the key starts with (live first), and that prefix; null for none.
 * The one place both checks below pick the prefix, so they never disagree on it.
 */
function prefixOf(key: string, prefixes: Record<KeyEnvironment, string>): ParsedKey | null {
  if (typeof key !== 'string') return null;
  for (const environment of ['live', 'test'] as const) {
    const prefix = prefixes[environment];
    if (key.startsWith(prefix)) return { environment, prefix };
  }
  return null;
}

/**
 * Parses a key's structure and verifies its checksum; returns null for anything that is not a
 * well-formed key of one of the given prefixes. Pure string work: no lookup is needed to refuse.
 */
export function parseKey(key: string, prefixes: Record<KeyEnvironment, string>): ParsedKey | null {
  if (typeof key !== 'string' || key.length > 128) return null;
  const parsed = prefixOf(key, prefixes);
  if (!parsed || !TAIL.test(key.slice(parsed.prefix.length))) return null;
  const body = key.slice(0, key.length - CHECKSUM_CHARS);
  return checksumOf(body) === key.slice(-CHECKSUM_CHARS) ? parsed : null;
}

/**
 * The part of parseKey that costs almost nothing: one of the prefixes and the length. A key that
 * passes it and is found by its keyed hash was issued here, so its characters and checksum are
 * known good; parseKey is needed only for a key that is not found that way.
 */
export function hasKeyShape(key: string, prefixes: Record<KeyEnvironment, string>): boolean {
  const parsed = prefixOf(key, prefixes);
  return parsed !== null && key.length === parsed.prefix.length + RANDOM_CHARS + CHECKSUM_CHARS;
}

/** The display hint: prefix, first four random characters, an ellipsis, the last four. */
export function hintOf(key: string, prefix: string): string {
  return `${prefix}${key.slice(prefix.length, prefix.length + 4)}…${key.slice(-4)}`;
}
