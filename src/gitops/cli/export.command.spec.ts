import type { CliIo } from '../../common/cli/cli-command.js';
import { CliUsageError, parseArgs } from '../../common/cli/cli-command.js';
import { exportCommand } from './export.command.js';

describe('keysmith export', () => {
  const io: CliIo = { out: () => undefined, err: () => undefined };
  const noApp = () => Promise.reject(new Error('export must not start the app before its output directory is made'));

  it('refuses an --out directory it cannot make, naming it and why, before reading anything', async () => {
    const run = exportCommand.run(parseArgs(['--realm', 'platform', '--out', '/proc/keysmith-export']), io, noApp);
    await expect(run).rejects.toBeInstanceOf(CliUsageError);
    await expect(run).rejects.toThrow(/^--out: cannot make the directory \/proc\/keysmith-export\/platform: ENOENT/);
  });
});
