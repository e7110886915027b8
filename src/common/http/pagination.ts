import { z } from 'zod';
import { DomainError } from '../errors/domain-error.js';
import { wholeNumber } from './text.js';

export const paginationQuery = {
  limit: wholeNumber(1, 500).default(50),
  cursor: z.string().max(200).optional(),
};

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Cursors are opaque to callers: base64url of the last item's sort key. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!key || encodeCursor(key) !== cursor) {
    throw DomainError.validation([{ field: 'query.cursor', message: 'is not a cursor returned by this API' }]);
  }
  return key;
}

/** Builds a page from `limit + 1` rows fetched in order. */
export function toPage<Row, Item>(rows: Row[], limit: number, keyOf: (row: Row) => string, map: (row: Row) => Item): Page<Item> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { items: kept.map(map), nextCursor: more ? encodeCursor(keyOf(kept[kept.length - 1])) : null };
}
