import { lstatSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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

  it('refuses a symbolic link to nothing where a directory should be, as mkdir -p does, rather than taking it as made', () => {
    symlinkSync(join(dir, 'not-mounted'), join(dir, 'out'));
    expect(() => makeDirectories(join(dir, 'out'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => makeDirectories(join(dir, 'out', 'platform'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(lstatSync(join(dir, 'out')).isSymbolicLink()).toBe(true);
    // A link to a directory is one.
    makeDirectories(join(dir, 'real'));
    symlinkSync(join(dir, 'real'), join(dir, 'linked'));
    expect(() => makeDirectories(join(dir, 'linked', 'below'))).not.toThrow();
    expect(statSync(join(dir, 'real', 'below')).isDirectory()).toBe(true);
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
