import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The README's gateway recipes, as files the tests load: the two cannot drift apart. */
export const RECIPES_DIR = join(process.cwd(), 'examples/gateways');

/** The addresses the recipes are written with, replaced by the test's ports. */
export const RECIPE_ADDRESSES = { listen: '127.0.0.1:8000', keysmith: '127.0.0.1:8080', backend: '127.0.0.1:9000' } as const;

export interface RecipePorts {
  listen: number;
  keysmith: number;
  backend: number;
}

/**
 * A recipe with its three addresses pointed at the test's ports. Fails when an address no longer
 * appears in the file, so a changed recipe cannot silently escape its test.
 */
export function renderRecipe(file: string, ports: RecipePorts): string {
  let text = readFileSync(join(RECIPES_DIR, file), 'utf8');
  for (const [role, address] of Object.entries(RECIPE_ADDRESSES) as [keyof RecipePorts, string][]) {
    if (!text.includes(address)) throw new Error(`${file} no longer mentions ${address} (${role}): update the test harness with it`);
    text = text.replaceAll(address, `127.0.0.1:${ports[role]}`);
  }
  return text;
}

/** A YAML recipe (Traefik, Envoy), parsed. */
export function loadYamlRecipe<T = unknown>(file: string): T {
  return parse(readFileSync(join(RECIPES_DIR, file), 'utf8')) as T;
}
