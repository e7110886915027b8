import { z } from 'zod';

const NO_CONTROL = /^[^\p{Cc}]*$/u;
const ONLY_LINE_BREAKS = /^(?:[^\p{Cc}]|[\t\n\r])*$/u;

/**
 * A short label (a key's name, a provenance label): printable text on one line. Control characters
 * (a NUL, a newline, a terminal escape) would end up in logs, audit exports, CLI output and
 * Keycloak, where they can forge lines or corrupt a terminal.
 */
export function labelText(max: number) {
  return z.string().max(max).regex(NO_CONTROL, 'must not contain control characters (such as a newline, a tab or NUL)');
}

/** Free text that may span lines (tabs and line breaks) but holds no other control character. */
export function freeText(max: number) {
  return z.string().max(max).regex(ONLY_LINE_BREAKS, 'must not contain control characters other than tabs and line breaks');
}

/**
 * A whole number written as text (a query parameter, an environment variable), with one message
 * for every way it can be wrong: zod's own messages for `abc` or `1.5` ("expected number,
 * received NaN") name a type the caller never wrote.
 */
export function wholeNumber(min: number, max: number) {
  const message = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message });
}
