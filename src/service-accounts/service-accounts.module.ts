import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ServiceAccountEntity } from './entities/service-account.entity.js';
import { ServiceAccountEvents } from './service-account.events.js';
import { ServiceAccountsController } from './service-accounts.controller.js';
import { ServiceAccountsService } from './services/service-accounts.service.js';
import { SecretRotationService } from './services/secret-rotation.service.js';
import { ServiceAccountCredentials } from './services/service-account-credentials.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([ServiceAccountEntity])],
  controllers: [ServiceAccountsController],
  providers: [ServiceAccountsService, ServiceAccountEvents, SecretRotationService, ServiceAccountCredentials],
  exports: [ServiceAccountsService, ServiceAccountEvents, SecretRotationService, ServiceAccountCredentials],
})
export class ServiceAccountsModule {}
