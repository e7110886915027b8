import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { WebhooksService } from './webhooks.service.js';

@Global()
@Module({
  imports: [TypeOrmModule.forFeature([WebhookDeliveryEntity])],
  providers: [WebhooksService],
  exports: [WebhooksService],
})
export class WebhooksModule {}
