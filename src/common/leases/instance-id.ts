import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable } from '@nestjs/common';

/**
 * This process's identity among the instances sharing the database, made once at boot. It names
 * the holder of every lease the process takes (job runs, account changes), so an operator can
 * tell which instance holds what.
 */
@Injectable()
export class InstanceId {
  readonly value: string;

  constructor() {
    this.value = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  }

  toString(): string {
    return this.value;
  }
}
