import { argsFor, CliUsageError, optionsOf, parseArgs, type CliCommand } from './cli-command.js';

describe('parseArgs', () => {
  it('reads values, inline values, repeats and flags', () => {
    expect(parseArgs(['defs', '--realm', 'platform', '--source=abc', '--scopes', 'a', '--scopes', 'b', '--prune'])).toEqual({
      positionals: ['defs'],
      options: { realm: 'platform', source: 'abc', scopes: ['a', 'b'], prune: true },
    });
  });

  it('never lets a boolean flag swallow the next argument', () => {
    expect(parseArgs(['--json', 'defs', '--detailed-exitcode'], ['json', 'detailed-exitcode'])).toEqual({
      positionals: ['defs'],
      options: { json: true, 'detailed-exitcode': true },
    });
    expect(parseArgs(['--json', 'defs'])).toEqual({ positionals: [], options: { json: 'defs' } });
  });
});

describe('argsFor', () => {
  const command: CliCommand = {
    name: 'apply',
    summary: 'test',
    usage: 'apply DIR [--set NAME] [--prune] [--max-deletions N] [--json]',
    booleanFlags: ['prune', 'json'],
    run: async () => 0,
  };

  it('takes the options the usage line names', () => {
    expect(optionsOf(command)).toEqual(new Set(['set', 'prune', 'max-deletions', 'json']));
    expect(argsFor(command, ['defs', '--set', 'team-a', '--prune', '--max-deletions=3', '--json'])).toEqual({
      positionals: ['defs'],
      options: { set: 'team-a', prune: true, 'max-deletions': '3', json: true },
    });
  });

  it('refuses a misspelt option, naming it, instead of running without it', () => {
    expect(() => argsFor(command, ['defs', '--max-deletion', '3'])).toThrow(new CliUsageError('unknown option --max-deletion for keysmith apply'));
    expect(() => argsFor(command, ['defs', '--prun', '--jsn'])).toThrow(new CliUsageError('unknown options --prun, --jsn for keysmith apply'));
  });
});
