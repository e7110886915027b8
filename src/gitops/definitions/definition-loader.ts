import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parse as parseYaml, parseAllDocuments, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { definitionSchema, type Definition } from './definition.schema.js';

export type FieldPath = (string | number)[];

/** One problem in the definition files, located to the file, the line and the field. */
export interface DefinitionIssue {
  file: string;
  line: number;
  field: string;
  message: string;
}

export interface SourceLocation {
  file: string;
  line: number;
}

/** A valid definition and where it came from. `lineOf` finds the line of any field inside it. */
export interface LoadedDefinition {
  definition: Definition;
  location: SourceLocation;
  lineOf(path: FieldPath): number;
}

/**
 * A policy check run on every schema-valid definition, such as the guard rails on grants. It
 * returns the problems it finds, each with the path of the field at fault.
 */
export type DefinitionCheck = (definition: Definition) => { path: FieldPath; message: string }[];

export interface LoadOptions {
  /** Where `${VAR}` values come from; `process.env` by default. */
  env?: Record<string, string | undefined>;
  checks?: DefinitionCheck[];
}

export interface LoadResult {
  definitions: LoadedDefinition[];
  issues: DefinitionIssue[];
  files: string[];
}

const DEFINITION_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** A definition file holds a few accounts; anything this big is not one (and is not read into memory). */
export const MAX_DEFINITION_FILE_BYTES = 5 * 1024 * 1024;
const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git']);
const VARIABLE = /\$(\$)?\{([^}]*)\}/g;
const WHOLE_VARIABLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Formats a field path as people read it: `spec.realmRoles[1]`, `metadata.name`. */
export function formatPath(path: FieldPath): string {
  return path.reduce<string>((text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment), '') || '(document)';
}

export function formatIssue(issue: DefinitionIssue): string {
  return `${issue.file}:${issue.line}: ${issue.field}: ${issue.message}`;
}

/** Sorts issues by file and line so that output is stable and readable. */
export function sortIssues(issues: DefinitionIssue[]): DefinitionIssue[] {
  return [...issues].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.field.localeCompare(b.field));
}

export interface FoundFiles {
  files: string[];
  /** Symbolic links to nothing: a definition (or a folder of them) that is missing, never skipped silently. */
  problems: DefinitionIssue[];
}

/**
 * Every definition file under `path` (a folder walked recursively, or one file), in a stable order.
 * Symbolic links are followed, to files and to folders, as git checks them out: a shared file
 * linked into an environment's folder is part of it, and skipping it would make `--prune` delete
 * its accounts. A folder or a file reached twice (a link loop, two links to one file) is read once,
 * at the first path in name order.
 */
export async function findDefinitionFiles(path: string): Promise<FoundFiles> {
  const found: FoundFiles = { files: [], problems: [] };
  if ((await stat(path)).isFile()) found.files.push(path);
  else await walk(path, new Set([await realpath(path)]), found);
  return found;
}

/** `seen`: the real paths of the folders walked and the files found so far. */
async function walk(folder: string, seen: Set<string>, found: FoundFiles): Promise<void> {
  const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = join(folder, entry.name);
    let kind = entry.isDirectory() ? 'folder' : entry.isFile() ? 'file' : 'other';
    if (entry.isSymbolicLink()) {
      try {
        const target = await stat(full);
        kind = target.isDirectory() ? 'folder' : target.isFile() ? 'file' : 'other';
      } catch {
        // Only a link the walk would read, as a folder or as a file: a dangling `node_modules` or `.cache` is skipped as it would be.
        // An editor's lock (Emacs writes `.#name.yaml`, a link to `user@host.pid`) is never a definition.
        if (!entry.name.startsWith('.#') && (wanted('folder', entry.name) || wanted('file', entry.name))) {
          found.problems.push({ file: full, line: 0, field: '(file)', message: 'is a symbolic link to nothing (or to a loop of links)' });
        }
        continue;
      }
    }
    if (!wanted(kind, entry.name)) continue;
    const real = await realpath(full);
    if (seen.has(real)) continue;
    seen.add(real);
    if (kind === 'folder') await walk(full, seen, found);
    else found.files.push(full);
  }
}

/** Does the walk read an entry of this kind and name: a folder not hidden nor skipped, a file with a definition extension? */
function wanted(kind: string, name: string): boolean {
  if (kind === 'folder') return !name.startsWith('.') && !SKIPPED_DIRECTORIES.has(name);
  return kind === 'file' && DEFINITION_EXTENSIONS.has(extname(name).toLowerCase());
}

/** A definition file's text, or why it cannot be read as one: too big, unreadable, not UTF-8. */
async function readDefinitionFile(file: string): Promise<{ text: string } | { problem: string }> {
  try {
    const { size } = await stat(file);
    if (size > MAX_DEFINITION_FILE_BYTES) return { problem: `is ${(size / 1024 / 1024).toFixed(1)} MB, more than a definition file may hold (${MAX_DEFINITION_FILE_BYTES / 1024 / 1024} MB)` };
    const bytes = await readFile(file);
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return { problem: 'is not UTF-8 text' };
    return { problem: `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
}

/**
 * Loads every definition under a folder: parses each file (several YAML documents per file; a
 * document may also be a list of definitions), substitutes `${VAR}`, validates against the schema,
 * runs the checks, and refuses the same realm and name defined twice.
 */
export async function loadDefinitions(path: string, options: LoadOptions = {}): Promise<LoadResult> {
  let files: string[];
  const issues: DefinitionIssue[] = [];
  try {
    const found = await findDefinitionFiles(path);
    files = found.files;
    issues.push(...found.problems);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (error as Error).message;
    return { definitions: [], files: [], issues: [{ file: path, line: 0, field: '(path)', message: reason }] };
  }
  const definitions: LoadedDefinition[] = [];
  for (const file of files) {
    const read = await readDefinitionFile(file);
    if ('problem' in read) {
      issues.push({ file, line: 0, field: '(file)', message: read.problem });
      continue;
    }
    const parsed = parseDefinitions(file, read.text, options);
    definitions.push(...parsed.definitions);
    issues.push(...parsed.issues);
  }
  issues.push(...duplicateIssues(definitions));
  if (files.length === 0) issues.push({ file: path, line: 0, field: '(path)', message: 'holds no *.yaml, *.yml or *.json file' });
  return { definitions, issues: sortIssues(issues), files };
}

/** How far aliases may expand (the yaml library's `maxAliasCount`); a document beyond it is refused. */
const MAX_ALIAS_COUNT = 100;
const ALIAS_BOMB = `its aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT}), which could exhaust memory`;

/** Parses the text of one definition file; `file` is the name used in issues. */
export function parseDefinitions(file: string, text: string, options: LoadOptions = {}): Omit<LoadResult, 'files'> {
  const env = options.env ?? process.env;
  const lineCounter = new LineCounter();
  const definitions: LoadedDefinition[] = [];
  const issues: DefinitionIssue[] = [];
  // Errors found at the end of the input (an unclosed bracket) point at the last line with content.
  const lastContent = Math.max(0, text.trimEnd().length - 1);
  const lineAt = (offset: number) => lineCounter.linePos(Math.min(offset, lastContent)).line;
  const documents = parseAllDocuments(text, { lineCounter, keepSourceTokens: true, prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(documents) ? documents : [];

  for (const doc of list) {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) {
      for (const problem of problems) {
        issues.push({ file, line: lineAt(problem.pos[0]), field: '(document)', message: `invalid YAML: ${firstLine(problem.message)}` });
      }
      continue;
    }
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue;

    const substitution = substitute(doc, env);
    for (const problem of substitution) issues.push({ file, line: lineAt(problem.offset), field: '(value)', message: problem.message });
    if (substitution.length > 0) continue;

    // A document that is a list holds several definitions; otherwise it is one.
    const roots: { node: Node; prefix: FieldPath }[] = isSeq(doc.contents)
      ? doc.contents.items.map((node, index) => ({ node: node as Node, prefix: [index] }))
      : [{ node: doc.contents as Node, prefix: [] }];
    let values: unknown[];
    try {
      values = isSeq(doc.contents) ? (doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown[]) : [doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })];
    } catch (error) {
      // The yaml library refuses aliases that expand too far (a "billion laughs" document) only here.
      const message = error instanceof ReferenceError && /alias/i.test(error.message) ? ALIAS_BOMB : firstLine((error as Error).message);
      issues.push({ file, line: lineAt((doc.contents as Node).range?.[0] ?? doc.range[0]), field: '(document)', message: `invalid YAML: ${message}` });
      continue;
    }

    roots.forEach((root, index) => {
      const lineOf = (path: FieldPath) => lineAt(offsetOf(root.node, path));
      const result = definitionSchema.safeParse(values[index], { reportInput: true });
      if (!result.success) {
        for (const issue of zodIssues(result.error)) {
          issues.push({ file, line: lineOf(issue.path), field: formatPath([...root.prefix, ...issue.path]), message: issue.message });
        }
        return;
      }
      const checkProblems = (options.checks ?? []).flatMap((check) => check(result.data));
      for (const problem of checkProblems) {
        issues.push({ file, line: lineOf(problem.path), field: formatPath([...root.prefix, ...problem.path]), message: problem.message });
      }
      if (checkProblems.length === 0) {
        definitions.push({ definition: result.data, location: { file, line: lineOf([]) }, lineOf: (path) => lineOf(path) });
      }
    });
  }
  return { definitions, issues };
}

/** The same realm and name in two places is an error at each later place, naming the first. */
export function duplicateIssues(definitions: LoadedDefinition[]): DefinitionIssue[] {
  const seen = new Map<string, LoadedDefinition>();
  const issues: DefinitionIssue[] = [];
  for (const loaded of definitions) {
    const key = `${loaded.definition.metadata.realm}/${loaded.definition.metadata.name}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, loaded);
      continue;
    }
    issues.push({
      file: loaded.location.file,
      line: loaded.lineOf(['metadata', 'name']),
      field: 'metadata.name',
      message: `service account ${key} is defined twice: here and at ${first.location.file}:${first.lineOf(['metadata', 'name'])}`,
    });
  }
  return issues;
}

/** zod issues as field paths and messages; unknown keys become one issue per key. */
export function zodIssues(error: z.ZodError): { path: FieldPath; message: string }[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...path, key], message: 'is not a known field' }));
    if (issue.code === 'invalid_type' && issue.input === undefined) return [{ path, message: 'is required' }];
    if (issue.code === 'invalid_value' && path.length === 1 && (path[0] === 'apiVersion' || path[0] === 'kind')) {
      return [{ path, message: `must be ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}` }];
    }
    return [{ path, message: issue.message }];
  });
}

/**
 * Replaces `${VAR}` in every scalar with the variable's value; `$${VAR}` stands for a literal
 * `${VAR}`. An unquoted value that is exactly one variable takes the variable's YAML type, so
 * `enabled: ${ENABLED}` can be a boolean. Returns one problem per unset or malformed variable.
 */
function substitute(doc: Document, env: Record<string, string | undefined>): { offset: number; message: string }[] {
  const problems: { offset: number; message: string }[] = [];
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const offset = node.range?.[0] ?? 0;
      const whole = node.type === 'PLAIN' ? WHOLE_VARIABLE.exec(node.value) : null;
      if (whole) {
        const value = env[whole[1]];
        if (value === undefined) problems.push({ offset, message: `environment variable ${whole[1]} is not set` });
        else node.value = scalarValue(value);
        return;
      }
      node.value = node.value.replace(VARIABLE, (match, escaped: string | undefined, name: string) => {
        if (escaped) return match.slice(1);
        if (!VARIABLE_NAME.test(name)) {
          problems.push({ offset, message: `"${match}" is not a valid variable reference (use \${NAME}, or $\${...} for a literal)` });
          return match;
        }
        const value = env[name];
        if (value === undefined) {
          problems.push({ offset, message: `environment variable ${name} is not set` });
          return match;
        }
        return value;
      });
    },
  });
  return problems;
}

function scalarValue(text: string): unknown {
  try {
    const value: unknown = parseYaml(text);
    return value === null || ['string', 'number', 'boolean'].includes(typeof value) ? value : text;
  } catch {
    return text;
  }
}

/** The source offset of the node at `path` (or of the deepest part of it that exists). */
function offsetOf(root: Node, path: FieldPath): number {
  let node: unknown = root;
  let offset = root.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}
