import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CliIo } from '../../common/cli/cli-command.js';
import { parseArgs } from '../../common/cli/cli-command.js';
import { OFFLINE_NOTE, validateCommand } from './validate.command.js';

const good = (name: string, extra = '') => `apiVersion: keysmith/v1
kind: ServiceAccount
metadata:
  name: ${name}
  realm: platform
  owner: team-a
spec:
  realmRoles: [orders-reader]
  defaultScopes: [read:data]
${extra}`;

describe('keysmith validate', () => {
  let dir: string;
  let out: string[];
  let err: string[];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line) };
  const noApp = () => Promise.reject(new Error('validate must not start the app'));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keysmith-validate-'));
    out = [];
    err = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, text: string): void {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }

  it('exits 0 on good files, without a database or Keycloak', async () => {
    write('a.yaml', `${good('good-one')}---\n${good('good-two')}`);
    write('nested/b.json', JSON.stringify({ apiVersion: 'keysmith/v1', kind: 'ServiceAccount', metadata: { name: 'good-three', realm: 'platform', owner: 'x' }, spec: {} }));
    expect(await validateCommand.run(parseArgs([dir]), io, noApp)).toBe(0);
    expect(out).toEqual(['3 definition(s) in 2 file(s) are valid']);
    expect(err).toEqual([OFFLINE_NOTE]);
  });

  it('exits 1 and prints every error as file:line: field: message across many bad files', async () => {
    write('01-bad-yaml.yaml', 'apiVersion: keysmith/v1\nkind: [ServiceAccount\n');
    write('02-unknown-field.yaml', good('unknown-field', '  colour: blue\n'));
    write('03-bad-client-id.yaml', good('Bad_Name'));
    write('04-unset-variable.yaml', good('unset-var').replace('owner: team-a', 'owner: ${KEYSMITH_TEST_SURELY_UNSET}'));
    write('05-dup-a.yaml', good('dup-name'));
    write('06-dup-b.yml', good('dup-name'));
    write('07-api-version.yaml', good('api-version').replace('keysmith/v1', 'v1'));
    write('08-kind.yaml', good('kind-wrong').replace('kind: ServiceAccount', 'kind: Deployment'));
    write('09-types.yaml', good('types-wrong', '  secretRotation: { everyDays: "often" }\n'));
    write('10-missing.yaml', good('missing-realm').replace('  realm: platform\n', ''));
    write('11-bad.json', '{ "apiVersion": "keysmith/v1", ');
    write('12-scope-repeat.yaml', good('scope-repeat').replace('[read:data]', '[read:data, read:data]'));
    write('13-ttl.yaml', good('ttl-too-long', '  apiKeyPolicy: { defaultTtlDays: 60, maxTtlDays: 30 }\n'));
    write('14-forbidden.yaml', good('forbidden-grants', '  clientRoles:\n    orders-api: [read]\n    realm-management: [manage-users]\n').replace('[orders-reader]', '[orders-reader, admin]'));

    expect(await validateCommand.run(parseArgs([dir]), io, noApp)).toBe(1);
    const lines = out.map((line) => line.slice(dir.length + 1));
    expect(lines).toEqual([
      expect.stringMatching(/^01-bad-yaml\.yaml:2: \(document\): invalid YAML: /),
      '02-unknown-field.yaml:10: spec.colour: is not a known field',
      expect.stringMatching(/^03-bad-client-id\.yaml:4: metadata\.name: must match/),
      '04-unset-variable.yaml:6: (value): environment variable KEYSMITH_TEST_SURELY_UNSET is not set',
      `06-dup-b.yml:4: metadata.name: service account platform/dup-name is defined twice: here and at ${join(dir, '05-dup-a.yaml')}:4`,
      '07-api-version.yaml:1: apiVersion: must be "keysmith/v1"',
      '08-kind.yaml:2: kind: must be "ServiceAccount"',
      '09-types.yaml:10: spec.secretRotation.everyDays: Invalid input: expected number, received string',
      '10-missing.yaml:3: metadata.realm: is required',
      expect.stringMatching(/^11-bad\.json:1: \(document\): invalid YAML: /),
      '12-scope-repeat.yaml:9: spec.defaultScopes: must not repeat a name',
      '13-ttl.yaml:10: spec.apiKeyPolicy.defaultTtlDays: defaultTtlDays must not exceed maxTtlDays',
      '14-forbidden.yaml:8: spec.realmRoles[1]: realm:admin is forbidden by the guard-rail policy',
      '14-forbidden.yaml:12: spec.clientRoles.realm-management[0]: client:realm-management:manage-users is forbidden by the guard-rail policy',
    ]);
    expect(err).toEqual(['14 error(s) in 13 file(s)', OFFLINE_NOTE]);
  });

  it('applies the configured deny patterns, as the server does', async () => {
    write('a.yaml', good('patterned'));
    process.env.KEYSMITH_GRANT_DENY_PATTERNS = 'scope:read:*';
    try {
      expect(await validateCommand.run(parseArgs([dir]), io, noApp)).toBe(1);
    } finally {
      delete process.env.KEYSMITH_GRANT_DENY_PATTERNS;
    }
    expect(out).toEqual([`${join(dir, 'a.yaml')}:9: spec.defaultScopes[0]: scope:read:data is forbidden by the guard-rail policy`]);
  });

  it('accepts the folder after a boolean-looking option and refuses a missing folder', async () => {
    expect(await validateCommand.run(parseArgs([join(dir, 'missing')]), io, noApp)).toBe(1);
    expect(out).toEqual([`${join(dir, 'missing')}:0: (path): no such file or folder`]);
    await expect(validateCommand.run(parseArgs([]), io, noApp)).rejects.toThrow('name one folder');
  });
});
