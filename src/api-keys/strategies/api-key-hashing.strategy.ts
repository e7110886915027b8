import { hash as digest, hkdfSync } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { dropOldestWhenFull } from '../../common/cache/drop-oldest.js';
import { HmacSha256 } from './hmac-sha256.js';

/**
 * Who presents the key being hashed: a caller of Keysmith's own API (few keys, each presented
 * again and again) or a key being verified for a gateway or service (possibly a wide spread of
 * keys, each seen once). The answer is the same; a strategy may remember each lane apart.
 */
export type HashLane = 'caller' | 'verified';

/**
 * How keys are stored: a keyed hash per pepper version. An injection token: replace the class to
 * change the algorithm without touching the services.
 */
export abstract class ApiKeyHashingStrategy {
  /** The version new keys are hashed with. */
  abstract readonly currentVersion: number;
  /** Every version lookups try, current first, so keys hashed with an older pepper keep working. */
  abstract readonly versions: readonly number[];
  abstract hash(key: string, version: number, lane?: HashLane): string;
}

/** How many keys' HMACs each pepper version remembers (see HmacPepperHashing). */
export const HMAC_MEMO_SIZE = 10_000;

/** The memo's hit rate is judged over this many lookups; below MEMO_MIN_HITS of them it is set aside for MEMO_REST hashes. */
export const MEMO_WINDOW = 4_096;
/**
 * A hit saves about 0.4 µs (0.33 µs against 0.72 µs for the HMAC, Node.js 20); a miss costs about
 * 0.45 µs more than the HMAC alone, and its entry outlives the young generation. The memo pays
 * from a hit rate of about a half; it is kept from three in five.
 */
export const MEMO_MIN_HITS = Math.round(MEMO_WINDOW * 0.6);
export const MEMO_REST = 65_536;
/** While set aside, one hash in this many still goes through the memo, so a return of repeated keys is seen. */
export const MEMO_PROBE_EVERY = 16;

/**
 * HMAC-SHA256 with a pepper derived from the master key by HKDF, the version in the HKDF info.
 * Raising KEYSMITH_API_KEY_PEPPER_VERSION introduces a new pepper; keys hashed with an older one
 * are still found (the lookup falls back version by version).
 *
 * The HMAC of a key never changes, so it is remembered for the last HMAC_MEMO_SIZE keys hashed,
 * per version, under the key's plain SHA-256: a `crypto.hash` call and a Map lookup cost about
 * 0.5 µs, the HMAC itself about 1.2 µs (HmacSha256, no Hmac object per call), and a verification
 * hashes two keys (the caller's and the one checked). Both were measured on Node.js 20, in a
 * Keysmith process as well as alone: without the memo a verification of a hot key cost about
 * 5 µs more; with `createHmac` instead of HmacSha256, one that cycles 100,000 keys cost about 5 µs
 * more. The raw key is not kept: the memo holds only digests, which reveal no more than the stored
 * keyed hashes, and finding another key with the same SHA-256 is infeasible.
 *
 * When keys repeat less than the memo holds (a gateway cycling 100,000 keys), nearly every lookup
 * misses and the memo only adds its digest, lookup and insert (about 3 µs in a profile of such a
 * run). So its hit rate is judged over every MEMO_WINDOW lookups: below MEMO_MIN_HITS, it is set
 * aside for the next MEMO_REST hashes, except for one in MEMO_PROBE_EVERY, which keep it current
 * and judge the next window. The answer is the same either way. Each lane (HashLane) has a memo of
 * its own, judged on its own: a caller's key, presented on every call, keeps its memo in use while
 * the keys it verifies are each seen once (one memo for both would hit one lookup in two).
 */
@Injectable()
export class HmacPepperHashing extends ApiKeyHashingStrategy {
  readonly currentVersion: number;
  readonly versions: readonly number[];
  private readonly hmacs = new Map<number, HmacSha256>();
  private readonly lanes: Record<HashLane, HmacMemo> = { caller: new HmacMemo(), verified: new HmacMemo() };

  constructor(config: AppConfig) {
    super();
    this.currentVersion = config.apiKeys.pepperVersion;
    this.versions = Array.from({ length: this.currentVersion }, (_, i) => this.currentVersion - i);
    for (const version of this.versions) {
      const pepper = Buffer.from(hkdfSync('sha256', config.masterKey, 'keysmith', `keysmith/api-key-pepper/v${version}`, 32));
      this.hmacs.set(version, new HmacSha256(pepper));
    }
  }

  hash(key: string, version: number, lane: HashLane = 'verified'): string {
    const hmac = this.hmacs.get(version);
    if (!hmac) throw new RangeError(`unknown pepper version ${version}`);
    return this.lanes[lane].hash(key, version, hmac);
  }

  /** How many keys' HMACs the memo of `version` holds in `lane` (for tests and diagnostics). */
  remembered(version: number, lane: HashLane = 'verified'): number {
    return this.lanes[lane].remembered(version);
  }
}

/** One lane's memo of HMACs, per pepper version, with the judge of its hit rate (see HmacPepperHashing). */
class HmacMemo {
  private readonly memos = new Map<number, Map<string, string>>();
  /** Hashes made; the memo is set aside until `hashes` reaches `restUntil`. */
  private hashes = 0;
  private restUntil = 0;
  private windowLookups = 0;
  private windowHits = 0;

  hash(key: string, version: number, hmac: HmacSha256): string {
    const count = ++this.hashes;
    if (count < this.restUntil && count % MEMO_PROBE_EVERY !== 0) return hmac.hex(key);
    let memo = this.memos.get(version);
    if (memo === undefined) this.memos.set(version, (memo = new Map()));
    const digestOfKey = digest('sha256', key, 'base64');
    const known = memo.get(digestOfKey);
    this.judge(known !== undefined);
    if (known !== undefined) return known;
    const hashed = hmac.hex(key);
    dropOldestWhenFull(memo, HMAC_MEMO_SIZE);
    memo.set(digestOfKey, hashed);
    return hashed;
  }

  remembered(version: number): number {
    return this.memos.get(version)?.size ?? 0;
  }

  /** Counts a memo lookup; at the end of a window, sets the memo aside if too few of its lookups hit. */
  private judge(hit: boolean): void {
    if (hit) this.windowHits += 1;
    if (++this.windowLookups < MEMO_WINDOW) return;
    if (this.windowHits < MEMO_MIN_HITS) this.restUntil = this.hashes + MEMO_REST;
    this.windowLookups = 0;
    this.windowHits = 0;
  }
}
