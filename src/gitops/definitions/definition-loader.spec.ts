import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatIssue, loadDefinitions, MAX_DEFINITION_FILE_BYTES, parseDefinitions, type DefinitionCheck } from './definition-loader.js';
import { definitionJsonSchema } from './definition.schema.js';

const GOOD = `apiVersion: keysmith/v1
kind: ServiceAccount
metadata:
  name: billing-worker
  realm: platform
  owner: team-billing
spec:
  description: Nightly billing export
  realmRoles: [orders-reader]
  clientRoles:
    orders-api: [read]
  defaultScopes: [read:data]
`;

describe('definition loader', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keysmith-defs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, text: string): string {
    const file = join(dir, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  }

  it('loads a folder tree with several documents per file, lists and JSON, filling spec defaults', async () => {
    write('a.yaml', `${GOOD}---\n${GOOD.replace('billing-worker', 'billing-reader')}`);
    write('team/b.yml', `- ${GOOD.replace('billing-worker', 'listed-one').split('\n').join('\n  ')}`);
    write('team/deeper/c.json', JSON.stringify({ apiVersion: 'keysmith/v1', kind: 'ServiceAccount', metadata: { name: 'json-one', realm: 'platform', owner: 'x' } }));
    write('notes.txt', 'not a definition');
    write('.hidden/skip.yaml', 'not: [valid');

    const result = await loadDefinitions(dir);

    expect(result.issues).toEqual([]);
    expect(result.definitions.map((d) => d.definition.metadata.name).sort()).toEqual(['billing-reader', 'billing-worker', 'json-one', 'listed-one']);
    const second = result.definitions.find((d) => d.definition.metadata.name === 'billing-reader')!;
    expect(second.location).toEqual({ file: join(dir, 'a.yaml'), line: 14 });
    const json = result.definitions.find((d) => d.definition.metadata.name === 'json-one')!.definition;
    expect(json.spec).toMatchObject({ description: '', enabled: true, realmRoles: [], clientRoles: {}, secretRotation: { everyDays: 90, graceHours: 24 } });
  });

  it('substitutes ${VAR} from the environment, typed when a plain value is one variable', () => {
    const text = GOOD.replace('owner: team-billing', 'owner: ${OWNER}')
      .replace('description: Nightly billing export', () => 'description: "export for ${TEAM} costs $${NOT_A_VAR}"\n  enabled: ${ENABLED}');
    const { definitions, issues } = parseDefinitions('x.yaml', text, { env: { OWNER: 'team-x', TEAM: 'billing', ENABLED: 'false' } });
    expect(issues).toEqual([]);
    expect(definitions[0].definition.metadata.owner).toBe('team-x');
    expect(definitions[0].definition.spec.description).toBe('export for billing costs ${NOT_A_VAR}');
    expect(definitions[0].definition.spec.enabled).toBe(false);
  });

  const badCases: { name: string; text: string; expected: string[]; env?: Record<string, string> }[] = [
    { name: 'bad YAML', text: 'apiVersion: keysmith/v1\nmetadata: [unclosed\n', expected: ['bad.yaml:2: (document): invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'] },
    { name: 'duplicate key', text: GOOD.replace('kind: ServiceAccount', 'kind: ServiceAccount\nkind: ServiceAccount'), expected: ['bad.yaml:3: (document): invalid YAML: Map keys must be unique'] },
    { name: 'unknown field', text: GOOD.replace('  defaultScopes', '  colour: blue\n  defaultScopes'), expected: ['bad.yaml:12: spec.colour: is not a known field'] },
    { name: 'unknown top-level field', text: `${GOOD}status: {}\n`, expected: ['bad.yaml:13: status: is not a known field'] },
    { name: 'bad clientId', text: GOOD.replace('name: billing-worker', 'name: Billing_Worker'), expected: ['bad.yaml:4: metadata.name: must match ^[a-z][a-z0-9-]{2,62}$'] },
    { name: 'unset variable', text: GOOD.replace('owner: team-billing', 'owner: ${NO_SUCH_VARIABLE}'), expected: ['bad.yaml:6: (value): environment variable NO_SUCH_VARIABLE is not set'] },
    { name: 'wrong apiVersion', text: GOOD.replace('keysmith/v1', 'keysmith/v2'), expected: ['bad.yaml:1: apiVersion: must be "keysmith/v1"'] },
    { name: 'wrong kind', text: GOOD.replace('kind: ServiceAccount', 'kind: Client'), expected: ['bad.yaml:2: kind: must be "ServiceAccount"'] },
    { name: 'wrong type', text: GOOD.replace('  defaultScopes', '  enabled: "yes please"\n  defaultScopes'), expected: ['bad.yaml:12: spec.enabled: Invalid input: expected boolean, received string'] },
    { name: 'wrong type in a list', text: GOOD.replace('[orders-reader]', '[orders-reader, 42]'), expected: ['bad.yaml:9: spec.realmRoles[1]: Invalid input: expected string, received number'] },
    { name: 'missing field', text: GOOD.replace('  owner: team-billing\n', ''), expected: ['bad.yaml:3: metadata.owner: is required'] },
    { name: 'repeated role', text: GOOD.replace('[orders-reader]', '[orders-reader, orders-reader]'), expected: ['bad.yaml:9: spec.realmRoles: must not repeat a name'] },
    { name: 'policy out of range', text: `${GOOD}  apiKeyPolicy: { defaultTtlDays: 120 }\n`, expected: ['bad.yaml:13: spec.apiKeyPolicy.defaultTtlDays: Too big'] },
    { name: 'not a mapping', text: 'just a string\n', expected: ['bad.yaml:1: (document): Invalid input: expected object, received string'] },
  ];

  it.each(badCases)('reports $name with file, line and field', async ({ text, expected, env }) => {
    write('bad.yaml', text);
    const result = await loadDefinitions(dir, { env: env ?? {} });
    const lines = result.issues.map(formatIssue).map((line) => line.slice(dir.length + 1));
    for (const prefix of expected) expect(lines).toContainEqual(expect.stringContaining(prefix));
    expect(result.definitions).toEqual([]);
  });

  it('names both places of a duplicate realm and name', async () => {
    write('a.yaml', GOOD);
    write('sub/b.yaml', `# another team\n${GOOD}`);
    const result = await loadDefinitions(dir);
    expect(result.issues.map(formatIssue)).toEqual([
      `${join(dir, 'sub/b.yaml')}:5: metadata.name: service account platform/billing-worker is defined twice: here and at ${join(dir, 'a.yaml')}:4`,
    ]);
  });

  it('refuses a document whose aliases expand too far at its file and line, and reads the other documents and files', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    // Each level names the one before it nine times: 9^6 nodes from six lines.
    for (const [previous, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f']]) levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
    write('a.yaml', `${GOOD}---\n# many laughs\n${levels.join('\n')}\n`);
    write('b.yaml', GOOD.replace('billing-worker', 'other-worker').replace('[orders-reader]', 'orders-reader'));
    const result = await loadDefinitions(dir);
    expect(result.issues.map(formatIssue)).toEqual([
      `${join(dir, 'a.yaml')}:15: (document): invalid YAML: its aliases expand to too many nodes (more than 100), which could exhaust memory`,
      `${join(dir, 'b.yaml')}:9: spec.realmRoles: Invalid input: expected array, received string`,
    ]);
    expect(result.definitions.map((loaded) => loaded.definition.metadata.name)).toEqual(['billing-worker']);
    // A few aliases are fine.
    expect(parseDefinitions('c.yaml', GOOD.replace('orders-api: [read]', 'orders-api: &r [read]\n    reports-api: *r')).issues).toEqual([]);
  });

  it('refuses a scope that is both a default and an optional scope, at its line, before any Keycloak call', () => {
    const text = GOOD.replace('defaultScopes: [read:data]', 'defaultScopes: [read:data, write:data]\n  optionalScopes:\n    - reports:read\n    - write:data');
    const { definitions, issues } = parseDefinitions('x.yaml', text);
    expect(issues.map(formatIssue)).toEqual(['x.yaml:15: spec.optionalScopes[1]: write:data is also a default scope']);
    expect(definitions).toEqual([]);
  });

  it('follows symbolic links to files and folders, reads what it reaches twice once, and reports a link to nothing', async () => {
    const named = (name: string) => GOOD.replace('billing-worker', name);
    write('defs/own.yaml', named('own-one'));
    write('shared/linked.yaml', named('linked-file'));
    write('shared/more/deep.yaml', named('linked-folder'));
    symlinkSync(join(dir, 'shared/linked.yaml'), join(dir, 'defs/linked.yaml'));
    symlinkSync(join(dir, 'shared/linked.yaml'), join(dir, 'defs/linked-again.yaml'));
    symlinkSync(join(dir, 'shared/more'), join(dir, 'defs/more'));
    symlinkSync(join(dir, 'shared/more'), join(dir, 'defs/more-again'));
    // A loop back to the folder being loaded.
    symlinkSync(join(dir, 'defs'), join(dir, 'shared/more/loop'));
    symlinkSync(join(dir, 'missing.yaml'), join(dir, 'defs/gone.yaml'));
    // Links to nothing under names the walk skips anyway (a hidden or tool folder) are skipped too.
    symlinkSync(join(dir, 'missing'), join(dir, 'defs/node_modules'));
    symlinkSync(join(dir, 'missing'), join(dir, 'defs/.cache'));
    // An editor's lock beside a file being edited: Emacs links `.#name` to `user@host.pid`.
    symlinkSync('someone@build-host.4242:1764000000', join(dir, 'defs/.#linked.yaml'));
    const result = await loadDefinitions(join(dir, 'defs'));
    expect(result.definitions.map((loaded) => loaded.definition.metadata.name).sort()).toEqual(['linked-file', 'linked-folder', 'own-one']);
    expect(result.issues.map(formatIssue)).toEqual([`${join(dir, 'defs/gone.yaml')}:0: (file): is a symbolic link to nothing (or to a loop of links)`]);
  });

  it('reports a file too big or not UTF-8 at the file, and reads the others', async () => {
    write('a.yaml', GOOD);
    write('big.json', ' '.repeat(MAX_DEFINITION_FILE_BYTES + 1));
    writeFileSync(join(dir, 'latin1.yaml'), Buffer.from(GOOD.replace('Nightly billing export', 'Export f\xfcr Z\xfcrich').replace('billing-worker', 'other-worker'), 'latin1'));
    const result = await loadDefinitions(dir);
    expect(result.issues.map(formatIssue)).toEqual([
      `${join(dir, 'big.json')}:0: (file): is 5.0 MB, more than a definition file may hold (5 MB)`,
      `${join(dir, 'latin1.yaml')}:0: (file): is not UTF-8 text`,
    ]);
    expect(result.definitions.map((loaded) => loaded.definition.metadata.name)).toEqual(['billing-worker']);
  });

  it('runs checks and locates their problems', async () => {
    write('a.yaml', GOOD.replace('orders-api: [read]', 'orders-api: [read]\n    realm-management: [manage-users]'));
    const noRealmManagement: DefinitionCheck = (definition) =>
      (definition.spec.clientRoles['realm-management'] ?? []).map((role, index) => ({
        path: ['spec', 'clientRoles', 'realm-management', index],
        message: `client role realm-management/${role} is forbidden`,
      }));
    const result = await loadDefinitions(dir, { checks: [noRealmManagement] });
    expect(result.issues.map(formatIssue)).toEqual([`${join(dir, 'a.yaml')}:12: spec.clientRoles.realm-management[0]: client role realm-management/manage-users is forbidden`]);
    expect(result.definitions).toEqual([]);
  });

  it('reports a missing folder and a folder without definitions', async () => {
    expect((await loadDefinitions(join(dir, 'nope'))).issues.map((i) => i.message)).toEqual(['no such file or folder']);
    expect((await loadDefinitions(dir)).issues.map((i) => i.message)).toEqual(['holds no *.yaml, *.yml or *.json file']);
  });

  it('publishes the JSON Schema generated from the zod schema (npm run schema:generate)', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
    const committed = JSON.parse(readFileSync(join(root, 'schemas/keysmith-v1.schema.json'), 'utf8'));
    expect(committed).toEqual(definitionJsonSchema());
  });
});

describe('examples/gitops', () => {
  it('holds valid definitions', async () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
    const result = await loadDefinitions(join(root, 'examples/gitops'), { env: { DEPLOY_ENV: 'test' } });
    expect(result.issues).toEqual([]);
    expect(result.definitions.map((d) => d.definition.metadata.name).sort()).toEqual(['orders-audit-reader', 'orders-sync-worker', 'partner-acme-webhooks', 'reports-exporter']);
  });
});
