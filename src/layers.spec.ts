import { ESLint } from 'eslint';

/** Lints a snippet as if it were the file at `filePath`, with the project's own eslint.config.js. */
async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: process.cwd() });
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
}

describe('layering lint rules', () => {
  it("refuses a feature importing another feature's internals", async () => {
    const messages = await restrictedImports(
      'src/api-keys/services/bad.ts',
      "import { ServiceAccountsService } from '../../service-accounts/services/service-accounts.service.js';\nexport const x = ServiceAccountsService;\n",
    );
    expect(messages).toEqual([expect.stringContaining('only through its index.ts')]);
  });

  it("accepts a feature importing another feature's index.ts, and its own internals", async () => {
    const messages = await restrictedImports(
      'src/api-keys/services/good.ts',
      "import { ServiceAccountsService } from '../../service-accounts/index.js';\nimport { ApiKeysService } from './api-keys.service.js';\nexport const x = [ServiceAccountsService, ApiKeysService];\n",
    );
    expect(messages).toEqual([]);
  });

  it.each([
    ['src/common/auth/bad.ts', "import { AuditService } from '../../audit/index.js';"],
    ['src/config/bad.ts', "import { AuditService } from '../audit/audit.service.js';"],
    ['src/database/bad.ts', "import { AppModule } from '../app.module.js';"],
  ])('refuses a lower layer (%s) importing a higher one', async (filePath, line) => {
    const messages = await restrictedImports(filePath, `${line}\nexport const x = 1;\n`);
    expect(messages).toEqual([expect.stringContaining('lower layers')]);
  });

  it('refuses a feature importing the top-level assembly', async () => {
    const messages = await restrictedImports('src/gitops/bad.ts', "import { PORT_BINDINGS } from '../app.ports.js';\nexport const x = PORT_BINDINGS;\n");
    expect(messages).toEqual([expect.stringContaining('top-level assembly')]);
  });

  it.each([
    ['src/gitops/bad.ts', "import KcAdminClient from '@keycloak/keycloak-admin-client';"],
    ['src/common/bad.ts', "import KcAdminClient from '@keycloak/keycloak-admin-client';"],
    ['src/app.bad.ts', "import KcAdminClient from '@keycloak/keycloak-admin-client';"],
    ['src/service-accounts/bad.ts', "import type KcAdminClient from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';"],
    ['src/config/bad.ts', "import type KcAdminClient from '@keycloak/keycloak-admin-client/lib/defs/roleRepresentation.js';"],
  ])('refuses the Keycloak admin client library, its representations included, outside src/keycloak (%s)', async (filePath, line) => {
    const messages = await restrictedImports(filePath, `${line}\nexport const x = KcAdminClient;\n`);
    expect(messages).toEqual([expect.stringContaining('Only src/keycloak talks to the Keycloak Admin API')]);
  });

  it.each([
    ['src/service-accounts/bad.ts', "import { KeycloakAdmin } from '../keycloak/keycloak-admin.js';", 'only through its index.ts'],
    ['src/app.bad.ts', "import { KeycloakAdmin } from './keycloak/keycloak-admin.js';", 'private to src/keycloak'],
    ['test/bad.e2e-spec.ts', "import { KeycloakAdmin } from '../src/keycloak/keycloak-admin.js';", 'private to src/keycloak'],
  ])('refuses KeycloakAdmin (the raw client) outside src/keycloak (%s)', async (filePath, line, reason) => {
    const messages = await restrictedImports(filePath, `${line}\nexport const x = KeycloakAdmin;\n`);
    expect(messages).toEqual([expect.stringContaining(reason)]);
  });

  it('refuses a source function over 60 lines and a source file over 400 lines', async () => {
    const eslint = new ESLint({ cwd: process.cwd() });
    const rules = async (filePath: string, code: string) => (await eslint.lintText(code, { filePath }))[0].messages.map((message) => message.ruleId);
    const body = (lines: number) => Array.from({ length: lines }, (_, i) => `  const _v${i} = ${i};`).join('\n');
    expect(await rules('src/gitops/long.ts', `export function f(): number {\n${body(58)}\n  return 0;\n}\n`)).toEqual(['max-lines-per-function']);
    expect(await rules('src/gitops/short.ts', `export function f(): number {\n${body(57)}\n  return 0;\n}\n`)).toEqual([]);
    const file = Array.from({ length: 401 }, (_, i) => `export const c${i} = ${i};`).join('\n');
    expect(await rules('src/gitops/big.ts', `${file}\n`)).toEqual(['max-lines']);
  });

  it('lets src/keycloak use the admin client, and tests the bootstrap admin', async () => {
    expect(await restrictedImports('src/keycloak/good.ts', "import KcAdminClient from '@keycloak/keycloak-admin-client';\nimport { KeycloakAdmin } from './keycloak-admin.js';\nexport const x = [KcAdminClient, KeycloakAdmin];\n")).toEqual([]);
    expect(await restrictedImports('test/good.e2e-spec.ts', "import type KcAdminClient from '@keycloak/keycloak-admin-client';\nimport { keycloakAdmin } from './support/keycloak-admin.js';\nexport const x: [typeof keycloakAdmin, KcAdminClient?] = [keycloakAdmin];\n")).toEqual([]);
  });
});
