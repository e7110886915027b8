import { CliUsageError, parseArgs, type CliIo } from '../../common/cli/cli-command.js';
import { keysCreateCommand } from './keys-create.command.js';

describe('keysmith keys create', () => {
  const io: CliIo = { out: () => undefined, err: () => undefined };
  const noApp = () => Promise.reject(new Error('a refused command must not start the app'));
  const run = (argv: string[]) => keysCreateCommand.run(parseArgs(argv, keysCreateCommand.booleanFlags), io, noApp);

  it.each([
    [['--realm', 'platform', '--client', 'ci-deployer']],
    [['--realm', 'platform', '--client', 'ci-deployer', '--scopes']],
    [['--realm', 'platform', '--client', 'ci-deployer', '--scopes', ',,']],
  ])('refuses %j without scopes before anything runs', async (argv) => {
    await expect(run(argv)).rejects.toThrow(new CliUsageError("--scopes is required: the key's scopes, comma-separated (a subset of the account's)"));
  });

  it('names a bad option value before anything runs', async () => {
    await expect(run(['--realm', 'platform', '--client', 'ci-deployer', '--scopes', 'read:data', '--ttl-days', '91'])).rejects.toThrow(/^--ttl-days: /);
  });
});
