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
});
