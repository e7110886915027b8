/** SQLite datetime text as TypeORM writes it: UTC `YYYY-MM-DD HH:MM:SS.SSS`. */
export function toSqliteDatetime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

export function fromSqliteDatetime(text: string): Date {
  return new Date(`${text.replace(' ', 'T')}Z`);
}
