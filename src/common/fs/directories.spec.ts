import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDirectories } from './directories.js';

describe('makeDirectories', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keysmith-out-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a directory and its missing parents, and accepts one that exists', () => {
    makeDirectories(join(dir, 'a', 'b', 'c'));
    expect(statSync(join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true);
    expect(() => makeDirectories(join(dir, 'a', 'b'))).not.toThrow();
  });

  it('refuses a path through a file', () => {
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => makeDirectories(join(dir, 'file', 'below'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });

  it('refuses, rather than retrying for ever, where the file system will not make a directory below an existing one', () => {
    // /proc answers ENOENT to mkdir although /proc exists: Node's recursive mkdir loops on it.
    expect(() => makeDirectories('/proc/keysmith-export/platform')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
