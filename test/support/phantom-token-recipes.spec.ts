import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The README's phantom-token recipes are the files in examples/phantom-token/, which
 * test/phantom-token.e2e-spec.ts runs or reads: every code block of that README section must
 * appear in one of them verbatim.
 */
describe('README phantom-token recipes', () => {
  const dir = join(process.cwd(), 'examples/phantom-token');
  const files = Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
  const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  const start = readme.indexOf('### Phantom tokens at the gateway');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  const blocks = [...section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((match) => match[1]!);

  it('shows one block per gateway', () => {
    expect(Object.keys(files).sort()).toEqual(['Caddyfile', 'envoy.yaml', 'nginx.conf', 'traefik.yml']);
    expect(blocks).toHaveLength(4);
  });

  it.each(['nginx.conf', 'Caddyfile', 'traefik.yml', 'envoy.yaml'])('quotes examples/phantom-token/%s verbatim', (name) => {
    expect(blocks.some((block) => files[name]!.includes(block))).toBe(true);
  });

  it('points every recipe at /v1/auth/exchange and passes Authorization upstream', () => {
    for (const text of Object.values(files)) {
      expect(text).toContain('/v1/auth/exchange');
      expect(text).toMatch(/authorization/i);
    }
  });
});
