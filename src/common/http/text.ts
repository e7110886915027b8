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
