import { describe, expect, it } from '@jest/globals';
import { createHmac, randomBytes } from 'node:crypto';
import { HmacSha256 } from './hmac-sha256.js';

const reference = (secret: Buffer, message: string) => createHmac('sha256', secret).update(message, 'utf8').digest('hex');

describe('HmacSha256', () => {
  it('gives what createHmac gives, for API keys and for messages of every length up to past the kept buffer', () => {
    const secret = randomBytes(32);
    const hmac = new HmacSha256(secret);
    const messages = ['', 'sk_live_' + 'a'.repeat(49), ...Array.from({ length: 700 }, (_, length) => randomBytes(length).toString('base64').slice(0, length))];
    for (const message of messages) expect(hmac.hex(message)).toBe(reference(secret, message));
  });

  it('hashes as UTF-8: multi-byte characters, surrogate pairs and lone surrogates, near and past the buffer size', () => {
    const secret = randomBytes(32);
    const hmac = new HmacSha256(secret);
    const messages = ['sk_live_é', '€'.repeat(512), '€'.repeat(513), '😀'.repeat(256), '😀'.repeat(257), 'a\uD800b', '\uDC00', 'Ā'];
    for (const message of messages) expect(hmac.hex(message)).toBe(reference(secret, message));
    // Characters that share a low byte are different messages (no Latin-1 truncation).
    expect(hmac.hex('Ā')).not.toBe(hmac.hex('\u0000'));
  });

  it('leaves no trace of one message in the next, nor of any message once it returns (the buffers are reused)', () => {
    const secret = randomBytes(32);
    const hmac = new HmacSha256(secret);
    const key = 'sk_live_' + 'K'.repeat(49);
    hmac.hex('x'.repeat(400));
    expect(hmac.hex('short')).toBe(reference(secret, 'short'));
    expect(hmac.hex('')).toBe(reference(secret, ''));
    expect(hmac.hex(key)).toBe(reference(secret, key));
    const inner = (hmac as unknown as { inner: Buffer }).inner;
    expect(inner.includes(Buffer.from('sk_live_'))).toBe(false);
    expect(inner.subarray(64).every((byte) => byte === 0)).toBe(true);
  });

  it('takes secrets of any length as RFC 2104 does: shorter than a block, a whole block, and longer (hashed first)', () => {
    for (const length of [0, 1, 32, 63, 64, 65, 200]) {
      const secret = randomBytes(length);
      expect(new HmacSha256(secret).hex('sk_test_message')).toBe(reference(secret, 'sk_test_message'));
    }
  });
});
