import { cliContext, cliOperator } from './cli-operator.js';

const os = (name: string) => () => name;
const noPasswdEntry = () => {
  throw new Error('ENOENT: no such file or directory, uv_os_get_passwd');
};

describe('cliOperator', () => {
  it('takes USER first', () => {
    expect(cliOperator({ env: { USER: 'alice', LOGNAME: 'bob' }, osUserName: os('carol') })).toBe('alice');
  });

  it('takes LOGNAME when USER is unset or blank', () => {
    expect(cliOperator({ env: { LOGNAME: 'bob' }, osUserName: os('carol') })).toBe('bob');
    expect(cliOperator({ env: { USER: '  ', LOGNAME: 'bob' }, osUserName: os('carol') })).toBe('bob');
  });

  it('takes the operating system user name when neither is set', () => {
    expect(cliOperator({ env: {}, osUserName: os('carol') })).toBe('carol');
  });

  it('says unknown when the user id has no name', () => {
    expect(cliOperator({ env: {}, osUserName: noPasswdEntry })).toBe('unknown');
  });

  it('names the same operator in the context of every command', () => {
    const sources = { env: { LOGNAME: 'bob' }, osUserName: os('carol') };
    expect(cliContext('abc123', sources)).toEqual({ actor: { type: 'cli', id: 'bob' }, requestId: null, owner: null, source: 'abc123', callerScopes: null });
    expect(cliContext(null, sources).actor).toEqual({ type: 'cli', id: 'bob' });
  });
});
