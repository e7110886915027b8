import { hostname } from 'node:os';
import { Injectable } from '@nestjs/common';
import { Random } from '../random/random.js';

/**
 * This process's identity among the instances sharing the database, made once at boot. It names
 * the holder of every lease the process takes (job runs, account changes), so an operator can
 * tell which instance holds what.
 */
@Injectable()
export class InstanceId {
  readonly value: string;

  constructor(random: Random) {
    this.value = `${hostname()}:${process.pid}:${random.bytes(4).toString('hex')}`;
  }

  toString(): string {
    return this.value;
  }
}
