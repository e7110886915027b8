import { LogCapture } from './log-capture.js';
import { harvest, harvestHeaders, registerLogCapture, scanLogsForSecrets, suiteSecrets } from './secret-scan.js';

describe('the e2e secret scan', () => {
  it('harvests credentials from bodies and headers and finds one that reached a log line', () => {
    harvest(JSON.stringify({ items: [{ key: 'sk_live_0123456789abcdefghij' }], clientSecret: 'client-secret-value-1' }));
    harvest({ access_token: 'eyJhbGciOiJSUzI1NiJ9.payload.signature', name: 'not-a-secret-field' });
    harvestHeaders({ Authorization: 'Bearer token-from-the-header-1', 'X-API-Key': 'sk_test_header_key_value' });
    expect([...suiteSecrets()].sort()).toEqual(
      ['client-secret-value-1', 'eyJhbGciOiJSUzI1NiJ9.payload.signature', 'sk_live_0123456789abcdefghij', 'sk_test_header_key_value', 'token-from-the-header-1'].sort(),
    );

    const capture = new LogCapture();
    registerLogCapture(capture);
    capture.write('{"msg":"fine"}\n');
    expect(scanLogsForSecrets()).toEqual({ logLines: 1, secrets: 5, found: [] });
    capture.write('{"msg":"oops client-secret-value-1"}\n');
    expect(scanLogsForSecrets().found).toEqual(['client… (21 characters)']);
  });
});
