import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Makes `path` and its missing parents, as `mkdir -p` does, or throws the first refusal. Node's own
 * `mkdir(path, { recursive: true })` (sync or not) never returns where a file system refuses a
 * directory with ENOENT although its parent exists (under /proc, say): it makes the parent again
 * and retries, in a loop. Here each missing directory is made once, from the top down. Every
 * directory Keysmith makes goes through it: the data directory (SQLite file, local master key) and
 * `keysmith export --out`.
 */
export function makeDirectories(path: string): void {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    const found = statSync(current, { throwIfNoEntry: false });
    if (found) {
      if (!found.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, ${current}`), { code: 'ENOTDIR' });
      break;
    }
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const directory of missing) {
    try {
      mkdirSync(directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Made meanwhile by another process is as good; a link to nothing, or a file made meanwhile, is not.
      const made = statSync(directory, { throwIfNoEntry: false });
      if (!made) throw Object.assign(new Error(`ENOENT: a symbolic link to nothing, ${directory}`), { code: 'ENOENT' });
      if (!made.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, ${directory}`), { code: 'ENOTDIR' });
    }
  }
}
