import { Global, Module } from '@nestjs/common';
import { SecretVault } from './secret-vault.js';

@Global()
@Module({ providers: [SecretVault], exports: [SecretVault] })
export class SecretsModule {}
