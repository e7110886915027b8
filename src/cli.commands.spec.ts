import { COMMANDS } from './cli.commands.js';
import { optionsOf } from './common/cli/cli-command.js';

describe('keysmith commands', () => {
  it("names every boolean flag of every command in that command's usage line", () => {
    const unnamed = COMMANDS.flatMap((each) => (each.booleanFlags ?? []).filter((name) => !optionsOf(each).has(name)).map((name) => `${each.name} --${name}`));
    expect(unnamed).toEqual([]);
    expect(COMMANDS.map((each) => each.booleanFlags ?? []).flat()).toContain('detailed-exitcode');
  });
});
