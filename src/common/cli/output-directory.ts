import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * Makes `path` and its missing parents, as `mkdir -p` does, or throws the first refusal. Node's own
 * `mkdir(path, { recursive: true })` never returns where a file system refuses a directory with
 * ENOENT although its parent exists (under /proc, say): it makes the parent again and retries, in a
 * loop. Here each missing directory is made once, from the top down.
 */
export async function makeDirectories(path: string): Promise<void> {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    const found = await stat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
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
    await mkdir(directory).catch((error: NodeJS.ErrnoException) => {
      // Made meanwhile by another process: as good.
      if (error.code !== 'EEXIST') throw error;
    });
  }
}
