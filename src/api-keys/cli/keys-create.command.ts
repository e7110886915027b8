import { ApiKeysService } from '../services/api-keys.service.js';
import { CliUsageError, flag, listOption, requireOption, stringOption, type CliCommand } from '../../common/cli/cli-command.js';
import { cliContext } from '../../common/cli/cli-operator.js';
import { issueApiKeySchema } from '../dto/api-key.schemas.js';
import { fieldErrors } from '../../common/http/zod-validation.js';

/**
 * `keysmith keys create`: an operator issues a key in-process, without any credential of
 * Keysmith's own API: how the first key for Keysmith itself is made. Audited with actor type `cli`.
 */
export const keysCreateCommand: CliCommand = {
  name: 'keys create',
  summary: 'issue an API key (printed once); e.g. the first key for Keysmith itself',
  booleanFlags: ['json'],
  usage: 'keys create --realm R --client C --scopes a,b [--name N] [--ttl-days D] [--environment live|test] [--json]',
  async run(args, io, app) {
    const realm = requireOption(args, 'realm');
    const clientId = requireOption(args, 'client');
    const ttl = stringOption(args, 'ttl-days');
    // The API takes a key without scopes; from an operator's command line an empty list is a slip.
    const scopes = listOption(args, 'scopes');
    if (scopes.length === 0) throw new CliUsageError('--scopes is required: the key\'s scopes, comma-separated (a subset of the account\'s)');
    const parsed = issueApiKeySchema.safeParse({
      name: stringOption(args, 'name') ?? 'cli',
      scopes,
      ttlDays: ttl === undefined ? undefined : Number(ttl),
      environment: stringOption(args, 'environment') ?? 'live',
    });
    if (!parsed.success) {
      throw new CliUsageError(fieldErrors(parsed.error).map((e) => `${e.field === 'ttlDays' ? '--ttl-days' : `--${e.field.split('.')[0]}`}: ${e.message}`).join('\n'));
    }
    const context = await app();
    const issued = await context.get(ApiKeysService).issue(cliContext(), realm, clientId, parsed.data);
    if (flag(args, 'json')) io.out(JSON.stringify(issued));
    else {
      io.out(issued.key);
      io.err(`issued ${issued.id} for ${realm}/${clientId} (${issued.scopes.join(' ') || 'no scopes'}), expires ${issued.expiresAt}. The key is shown only this once.`);
    }
    return 0;
  },
};

