import { randomBytes } from 'node:crypto';

/**
 * Identifiers that sort by creation time: `<prefix>_<12 hex ms><10 hex random>`. Lists page by id
 * with an opaque cursor, so sortable ids keep paging stable without an extra column.
 */
export function sortableId(prefix: string, at: Date): string {
  const time = at.getTime().toString(16).padStart(12, '0');
  return `${prefix}_${time}${randomBytes(5).toString('hex')}`;
}
