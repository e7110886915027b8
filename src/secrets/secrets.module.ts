import { Global, Module } from '@nestjs/common';
import { MasterKeyCheck } from './master-key-check.js';
import { SecretVault } from './secret-vault.js';

@Global()
@Module({ providers: [SecretVault, MasterKeyCheck], exports: [SecretVault] })
export class SecretsModule {}
