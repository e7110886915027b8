import { secondsLeft } from './token-exchange.service.js';

describe('secondsLeft (expires_in)', () => {
  const issued = Date.parse('2030-01-01T00:00:00.000Z');
  const expiresAt = issued + 300_000;

  it('reports the lifespan Keycloak gave for a token answered in the milliseconds after it was fetched', () => {
    expect(secondsLeft(expiresAt, issued)).toBe(300);
    expect(secondsLeft(expiresAt, issued + 1)).toBe(300);
    expect(secondsLeft(expiresAt, issued + 499)).toBe(300);
  });

  it('counts down as the token ages, and never below 1', () => {
    expect(secondsLeft(expiresAt, issued + 600)).toBe(299);
    expect(secondsLeft(expiresAt, issued + 240_000)).toBe(60);
    expect(secondsLeft(expiresAt, expiresAt - 10)).toBe(1);
    expect(secondsLeft(expiresAt, expiresAt + 5_000)).toBe(1);
  });
});
