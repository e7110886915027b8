import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The README's gateway recipes are the files in examples/gateways/, which the gateway suites run
 * or read: every code block of the README's Gateways section must appear in one of them verbatim.
 */
describe('README gateway recipes', () => {
  const dir = join(process.cwd(), 'examples/gateways');
  const files = Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
  const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Gateways (forward auth)'), readme.indexOf('\n### ', readme.indexOf('### Gateways (forward auth)') + 1));
  const blocks = [...section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((match) => match[1]!);

  it('shows one block per gateway', () => {
    expect(Object.keys(files).sort()).toEqual(['Caddyfile', 'envoy.yaml', 'nginx.conf', 'traefik.yml']);
    expect(blocks).toHaveLength(4);
  });

  it.each(['nginx.conf', 'Caddyfile', 'traefik.yml', 'envoy.yaml'])('quotes examples/gateways/%s verbatim', (name) => {
    expect(blocks.some((block) => files[name]!.includes(block))).toBe(true);
  });
});
