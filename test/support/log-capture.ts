import { Writable } from 'node:stream';

/** Collects every log line an app writes, so a suite can check that no secret was logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (process.env.KEYSMITH_TEST_LOGS === 'stdout') process.stdout.write(chunk);
    callback();
  }

  /** The captured lines that are JSON log records (all of Keysmith's), parsed. */
  records(): Record<string, unknown>[] {
    return this.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  text(): string {
    return this.lines.join('\n');
  }

  /** The secrets from `candidates` that appear anywhere in the captured logs. */
  leaked(candidates: Iterable<string>): string[] {
    const text = this.text();
    return [...new Set(candidates)].filter((secret) => secret.length >= 8 && text.includes(secret));
  }
}
