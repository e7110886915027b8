import { Random } from './random.js';

describe('Random', () => {
  const random = new Random();

  it('gives fractions in [0, 1)', () => {
    const draws = Array.from({ length: 1_000 }, () => random.fraction());
    expect(draws.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(new Set(draws).size).toBeGreaterThan(990);
  });

  it('gives the requested number of bytes, different each time', () => {
    expect(random.bytes(16)).toHaveLength(16);
    expect(random.bytes(16).equals(random.bytes(16))).toBe(false);
  });
});
