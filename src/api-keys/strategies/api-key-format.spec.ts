import { Random } from '../../common/random/random.js';
import { createHmac, hash, hkdfSync } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { loadConfig } from '../../config/app-config.js';
import { base62FromBigInt, base62FromBytes } from './base62.js';
import { checksumOf, DEFAULT_KEY_PATTERN, hasKeyShape, hintOf, parseKey } from './api-key-format.js';
import { PrefixedChecksumKeyGeneration } from './api-key-generation.strategy.js';
import { HMAC_MEMO_SIZE, HmacPepperHashing, MEMO_MIN_HITS, MEMO_PROBE_EVERY, MEMO_REST, MEMO_WINDOW } from './api-key-hashing.strategy.js';

const prefixes = { live: 'sk_live_', test: 'sk_test_' };
const env = { KEYCLOAK_CLIENT_SECRET: 'x', KEYSMITH_MASTER_KEY: 'ab'.repeat(32) };

describe('base62', () => {
  it('encodes numbers and pads to the width', () => {
    expect(base62FromBigInt(0n, 3)).toBe('000');
    expect(base62FromBigInt(61n, 2)).toBe('0z');
    expect(base62FromBigInt(62n, 2)).toBe('10');
    expect(base62FromBytes(new Uint8Array(32).fill(255), 43)).toHaveLength(43);
    expect(() => base62FromBigInt(62n ** 3n, 3)).toThrow(RangeError);
  });
});

describe('key format', () => {
  const generation = new PrefixedChecksumKeyGeneration(loadConfig(env), new Random());

  it('makes keys of prefix, 43 base62 random characters and a 6-character CRC32 checksum', () => {
    const { key, hint } = generation.generate('live');
    expect(key).toMatch(/^sk_live_[0-9A-Za-z]{49}$/);
    expect(new RegExp(DEFAULT_KEY_PATTERN).test(`token=${key};`)).toBe(true);
    const body = key.slice(0, -6);
    expect(key.slice(-6)).toBe(base62FromBigInt(BigInt(crc32(Buffer.from(body))), 6));
    expect(hint).toBe(`sk_live_${key.slice(8, 12)}…${key.slice(-4)}`);
    expect(generation.generate('test').key.startsWith('sk_test_')).toBe(true);
  });

  it('never makes the same key twice', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generation.generate('live').key));
    expect(keys.size).toBe(1000);
  });

  it('parses good keys and refuses bad structure and bad checksums', () => {
    const { key } = generation.generate('test');
    expect(parseKey(key, prefixes)).toEqual({ environment: 'test', prefix: 'sk_test_' });
    const flipped = key.slice(0, 20) + (key[20] === 'a' ? 'b' : 'a') + key.slice(21);
    expect(parseKey(flipped, prefixes)).toBeNull();
    expect(parseKey(key.slice(0, -1), prefixes)).toBeNull();
    expect(parseKey(`${key}x`, prefixes)).toBeNull();
    expect(parseKey(key.replace('sk_test_', 'sk_prod_'), prefixes)).toBeNull();
    expect(parseKey(key.replace(/.$/, '-'), prefixes)).toBeNull();
    expect(parseKey('', prefixes)).toBeNull();
    expect(parseKey('x'.repeat(10_000), prefixes)).toBeNull();
  });

  it('tells by prefix and length alone only what parseKey refuses too', () => {
    const { key } = generation.generate('live');
    expect(hasKeyShape(key, prefixes)).toBe(true);
    const variants = [
      key.slice(0, -1),
      `${key}x`,
      key.replace('sk_live_', 'sk_prod_'),
      key.replace('sk_live_', 'sk_test_'),
      `${key.slice(0, 20)}-${key.slice(21)}`,
      `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`,
      '',
      'x'.repeat(10_000),
    ];
    // parseKey refuses every variant; the three with a prefix and the length pass the cheap check,
    // so verification checks them in full before any query (see ApiKeyVerificationService).
    expect(variants.filter((variant) => parseKey(variant, prefixes))).toEqual([]);
    expect(variants.filter((variant) => hasKeyShape(variant, prefixes))).toEqual(variants.slice(3, 6));
  });

  it('uses configured prefixes', () => {
    const custom = new PrefixedChecksumKeyGeneration(
      loadConfig({ ...env, KEYSMITH_API_KEY_PREFIX_LIVE: 'acme_live_', KEYSMITH_API_KEY_PREFIX_TEST: 'acme_test_' }),
      new Random(),
    );
    const { key } = custom.generate('live');
    expect(key.startsWith('acme_live_')).toBe(true);
    expect(custom.parse(key)).toEqual({ environment: 'live', prefix: 'acme_live_' });
    expect(custom.parse(generation.generate('live').key)).toBeNull();
  });

  it('computes the checksum over everything before it', () => {
    expect(checksumOf('sk_live_abc')).toHaveLength(6);
    expect(checksumOf('sk_live_abc')).not.toBe(checksumOf('sk_live_abd'));
    expect(hintOf('sk_live_ABCDEFGHwxyz', 'sk_live_')).toBe('sk_live_ABCD…wxyz');
  });
});

describe('HMAC pepper hashing', () => {
  it('is deterministic per master key and pepper version, and never the key itself', () => {
    const v1 = new HmacPepperHashing(loadConfig(env));
    const v2 = new HmacPepperHashing(loadConfig({ ...env, KEYSMITH_API_KEY_PEPPER_VERSION: '2' }));
    const other = new HmacPepperHashing(loadConfig({ ...env, KEYSMITH_MASTER_KEY: 'cd'.repeat(32) }));
    const key = 'sk_live_example';
    expect(v1.hash(key, 1)).toMatch(/^[0-9a-f]{64}$/);
    expect(v1.hash(key, 1)).toBe(v2.hash(key, 1));
    expect(v2.hash(key, 2)).not.toBe(v2.hash(key, 1));
    expect(other.hash(key, 1)).not.toBe(v1.hash(key, 1));
    expect(v2.currentVersion).toBe(2);
    expect(v2.versions).toEqual([2, 1]);
    expect(() => v1.hash(key, 2)).toThrow(RangeError);
  });

  it('answers from its memo exactly what the HMAC gives, per version, for the newest HMAC_MEMO_SIZE keys', () => {
    const hashing = new HmacPepperHashing(loadConfig({ ...env, KEYSMITH_API_KEY_PEPPER_VERSION: '2' }));
    const pepper = (version: number) => Buffer.from(hkdfSync('sha256', Buffer.from('ab'.repeat(32), 'hex'), 'keysmith', `keysmith/api-key-pepper/v${version}`, 32));
    const hmac = (key: string, version: number) => createHmac('sha256', pepper(version)).update(key).digest('hex');
    const memo = (hashing as unknown as { lanes: { verified: { memos: Map<number, Map<string, string>> } } }).lanes.verified.memos;
    const key = 'sk_live_memoised';

    expect(hashing.hash(key, 2)).toBe(hmac(key, 2));
    expect(hashing.hash(key, 2)).toBe(hmac(key, 2));
    expect(hashing.hash(key, 1)).toBe(hmac(key, 1));
    // The memo holds digests only: neither the key nor its HMAC is a key of it.
    expect([...memo.get(2)!.keys()]).not.toContain(key);
    expect([...memo.get(2)!.keys()]).toEqual([expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/)]);

    // Each filler three times: two lookups in three hit, so the memo stays in use (see the next test).
    for (let i = 0; i < HMAC_MEMO_SIZE + 5; i += 1) for (const _ of [1, 2, 3]) hashing.hash(`sk_live_filler${i}`, 2);
    expect(memo.get(2)!.size).toBeLessThanOrEqual(HMAC_MEMO_SIZE);
    expect(memo.get(2)!.size).toBeGreaterThan((HMAC_MEMO_SIZE * 7) / 8);
    expect(memo.get(1)!.size).toBe(1);
    // The first key was dropped for newer ones, and is hashed again to the same value.
    expect(memo.get(2)!.has(hash('sha256', key, 'base64'))).toBe(false);
    expect(hashing.hash(key, 2)).toBe(hmac(key, 2));
    expect(hashing.hash('sk_live_filler7', 2)).toBe(hmac('sk_live_filler7', 2));
  });

  it('sets its memo aside while keys do not repeat, and takes it up again once they do', () => {
    const hashing = new HmacPepperHashing(loadConfig(env));
    const pepper = Buffer.from(hkdfSync('sha256', Buffer.from('ab'.repeat(32), 'hex'), 'keysmith', 'keysmith/api-key-pepper/v1', 32));
    const hmac = (key: string) => createHmac('sha256', pepper).update(key).digest('hex');
    let next = 0;
    const fresh = (count: number) => {
      for (let i = 0; i < count; i++) {
        const key = `sk_live_fresh${next++}`;
        // Spot checks: the answer never depends on the memo.
        if (i % 997 === 0) expect(hashing.hash(key, 1)).toBe(hmac(key));
        else hashing.hash(key, 1);
      }
    };
    // A window of keys never seen before: every lookup missed, and each key was remembered.
    fresh(MEMO_WINDOW);
    expect(hashing.remembered(1)).toBe(MEMO_WINDOW);
    // Set aside: only the probes go through the memo.
    fresh(MEMO_PROBE_EVERY * 100);
    expect(hashing.remembered(1)).toBe(MEMO_WINDOW + 100);
    // One key repeated for the rest of the pause: its probes hit, so the memo is taken up again.
    const hot = 'sk_live_hot';
    for (let i = 0; i < MEMO_REST - MEMO_PROBE_EVERY * 100; i++) hashing.hash(hot, 1);
    expect(hashing.hash(hot, 1)).toBe(hmac(hot));
    const before = hashing.remembered(1);
    fresh(100);
    expect(hashing.remembered(1)).toBe(before + 100);
    expect(before + 100).toBeLessThan(HMAC_MEMO_SIZE);
  });

  it('sets its memo aside when only half of its lookups hit (a hot caller verifying keys seen once)', () => {
    const hashing = new HmacPepperHashing(loadConfig(env));
    const pepper = Buffer.from(hkdfSync('sha256', Buffer.from('ab'.repeat(32), 'hex'), 'keysmith', 'keysmith/api-key-pepper/v1', 32));
    const hmac = (key: string) => createHmac('sha256', pepper).update(key).digest('hex');
    const caller = 'sk_live_caller';
    let next = 0;
    const round = () => [hashing.hash(caller, 1), hashing.hash(`sk_live_once${next++}`, 1)];
    // One window: the caller's key hits (after its first lookup), every other key misses and is remembered.
    for (let i = 0; i < MEMO_WINDOW / 2; i += 1) round();
    const remembered = hashing.remembered(1);
    expect(remembered).toBe(MEMO_WINDOW / 2 + 1);
    expect(MEMO_WINDOW / 2).toBeLessThan(MEMO_MIN_HITS);
    // Set aside: only the probes go through the memo, and the answers stay the same.
    for (let i = 0; i < MEMO_PROBE_EVERY * 50; i += 1) {
      const [ofCaller, ofKey] = round();
      if (i % 97 === 0) expect([ofCaller, ofKey]).toEqual([hmac(caller), hmac(`sk_live_once${next - 1}`)]);
    }
    expect(hashing.remembered(1)).toBeLessThanOrEqual(remembered + 100);
    expect(hashing.remembered(1)).toBeGreaterThan(remembered);
  });

  it('judges the memo of callers\' keys apart from that of verified keys', () => {
    const hashing = new HmacPepperHashing(loadConfig(env));
    const lanes = (hashing as unknown as { lanes: Record<'caller' | 'verified', { restUntil: number; hashes: number }> }).lanes;
    const caller = 'sk_live_caller';
    const answer = hashing.hash(caller, 1, 'caller');
    // A hot caller verifying keys seen once: each lane's lookups are judged on their own.
    for (let i = 0; i < MEMO_WINDOW * 2; i += 1) {
      expect(hashing.hash(caller, 1, 'caller')).toBe(answer);
      hashing.hash(`sk_live_once${i}`, 1, 'verified');
    }
    expect(lanes.caller.restUntil).toBeLessThan(lanes.caller.hashes);
    expect(lanes.verified.restUntil).toBeGreaterThan(lanes.verified.hashes);
    expect(hashing.remembered(1, 'caller')).toBe(1);
    expect(hashing.remembered(1, 'verified')).toBeLessThan(MEMO_WINDOW * 2);
    // The same key hashes the same in either lane.
    expect(hashing.hash(caller, 1, 'verified')).toBe(answer);
  });

  it('draws the random part from the injected source', () => {
    class FixedRandom extends Random {
      override bytes(size: number): Buffer {
        return Buffer.alloc(size, 7);
      }
    }
    const fixed = new PrefixedChecksumKeyGeneration(loadConfig(env), new FixedRandom());
    const first = fixed.generate('live');
    expect(fixed.generate('live')).toEqual(first);
    expect(fixed.parse(first.key)).not.toBeNull();
    expect(first.key).not.toBe(new PrefixedChecksumKeyGeneration(loadConfig(env), new Random()).generate('live').key);
  });
});
