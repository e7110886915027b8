import type { DataSource } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';

type NormalizeType = (column: { type?: ColumnMetadata['type']; length?: number | string; precision?: number | null; scale?: number; isArray?: boolean }) => string;

/**
 * Entities declare time columns as `datetime`, the SQLite type the first migrations used. On
 * PostgreSQL that type is `timestamp with time zone` (`timestamptz`): the driver is taught the
 * alias, so one entity maps on both engines and the schema diff (migration:generate, the
 * entities-match-migrations tests) compares like with like. Values are JavaScript Dates on both.
 */
export function adaptDriver(dataSource: DataSource): DataSource {
  if (dataSource.options.type !== 'postgres') return dataSource;
  const driver = dataSource.driver as unknown as { normalizeType: NormalizeType };
  const normalize = driver.normalizeType.bind(driver);
  driver.normalizeType = (column) => (column.type === 'datetime' ? 'timestamp with time zone' : normalize(column));
  return dataSource;
}
