import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CliUsageError, requireOption, stringOption, type CliCommand } from '../../common/cli/cli-command.js';
import { makeDirectories } from '../../common/fs/directories.js';
import { SET_NAME_PATTERN, SET_NAME_RULE } from '../../service-accounts/index.js';
import { ExportDefinitionsUseCase } from '../usecases/export-definitions.usecase.js';

/** `keysmith export --realm R [--out DIR]`: definitions for the accounts Keysmith manages in a realm. */
export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'write definitions for the service accounts Keysmith manages in a realm, or only those of one set (to DIR/<realm>/<clientId>.yaml, or stdout)',
  usage: 'export --realm R [--set NAME] [--out DIR]',
  async run(args, io, app) {
    const realm = requireOption(args, 'realm');
    const out = stringOption(args, 'out');
    const set = stringOption(args, 'set');
    if (set !== undefined && !SET_NAME_PATTERN.test(set)) throw new CliUsageError(`--set: ${SET_NAME_RULE}`);
    // The output directory first: a pipeline learns of a bad --out before the export reads Keycloak.
    const directory = out === undefined ? undefined : join(out, realm);
    if (directory !== undefined) {
      try {
        makeDirectories(directory);
      } catch (error) {
        throw new CliUsageError(`--out: cannot make the directory ${directory}: ${(error as Error).message}`);
      }
    }
    const definitions = await (await app()).get(ExportDefinitionsUseCase).execute(realm, set);
    if (directory === undefined) {
      io.out(definitions.map((definition) => stringify(definition).trimEnd()).join('\n---\n'));
      return 0;
    }
    for (const definition of definitions) {
      await writeFile(join(directory, `${definition.metadata.name}.yaml`), stringify(definition));
    }
    io.err(`wrote ${definitions.length} definition(s) to ${directory}`);
    return 0;
  },
};
