#!/usr/bin/env node
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { AppModule } from './app.module.js';
import { argsFor, CliUsageError, type CliIo } from './common/cli/cli-command.js';
import { COMMANDS } from './cli.commands.js';
import { ConfigValidationError, loadConfig } from './config/app-config.js';
import { detailOf, DomainError } from './common/errors/domain-error.js';

/**
 * `keysmith`: the command line for pipelines and operators (GitOps, first keys). Works in-process
 * against the configured database and Keycloak, with logs going to stderr at warn level.
 */
const io: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function help(): string {
  return ['usage: keysmith <command> [options]', '', ...COMMANDS.map((c) => `  ${c.usage.padEnd(64)} ${c.summary}`)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help') {
    io.out(help());
    return name ? 0 : 1;
  }
  // Commands may have sub-commands: `keys create` is found as "keys create".
  const command = COMMANDS.find((c) => c.name === `${name} ${rest[0] ?? ''}`.trim()) ?? COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`unknown command "${name}"\n${help()}`);
    return 1;
  }
  const commandArgv = command.name.includes(' ') ? rest.slice(1) : rest;
  if (commandArgv.includes('--help')) {
    io.out(`usage: keysmith ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  let context: INestApplicationContext | undefined;
  const app = async () => {
    process.env.LOG_LEVEL ??= 'warn';
    // The CLI never runs scheduled jobs: that is the server's work.
    process.env.KEYSMITH_SCHEDULER = 'off';
    process.env.KEYSMITH_KEYCLOAK_SYNC = 'off';
    if (!context) {
      // As the server does: a bad variable stops the command with its name and reason (caught
      // below), before Nest would print its own report with a stack trace.
      loadConfig();
      context = await NestFactory.createApplicationContext(AppModule.register({ logStream: process.stderr }), { logger: ['error', 'warn'] });
    }
    return context;
  };
  try {
    return await command.run(argsFor(command, commandArgv), io, app);
  } catch (error) {
    if (error instanceof CliUsageError) io.err(`${error.message}\nusage: keysmith ${command.usage}`);
    else if (error instanceof ConfigValidationError) io.err(error.message);
    else if (error instanceof DomainError) io.err(`${error.code}: ${detailOf(error)}`);
    else io.err(`error: ${(error as Error).message}`);
    return 1;
  } finally {
    await context?.close();
  }
}

// Exit, not just set the code: a start-up that failed part-way (a master key the database refuses,
// say) leaves the connections Nest had opened (Redis, the PostgreSQL pool) with nothing to close them.
process.exit(await main(process.argv.slice(2)));
