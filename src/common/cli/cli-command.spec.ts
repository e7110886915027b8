import { parseArgs } from './cli-command.js';

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
