import type { FastifyRequest } from 'fastify';
import { explainingJsonParser, jsonBodyProblem } from './json-body.js';

function parseWith(body: string | Buffer): Promise<{ error: Error | null; value?: unknown }> {
  const parser = explainingJsonParser();
  return new Promise((resolve) => parser({} as FastifyRequest, body, (error, value) => resolve({ error, value })));
}

describe('explainingJsonParser', () => {
  it('parses a JSON body given as a string or as a Buffer', async () => {
    await expect(parseWith('{"key":"a","n":[1,2]}')).resolves.toEqual({ error: null, value: { key: 'a', n: [1, 2] } });
    await expect(parseWith(Buffer.from('{"key":"b"}'))).resolves.toEqual({ error: null, value: { key: 'b' } });
  });

  it('refuses a forbidden property name with that reason, not as invalid JSON', async () => {
    for (const body of ['{"__proto__":{"admin":true}}', '{"a":{"constructor":{"prototype":{"x":1}}}}', '\ufeff{"__proto__":{}}']) {
      const { error } = await parseWith(body);
      expect(error).toMatchObject({ status: 400, message: expect.stringContaining('forbidden property name') });
    }
  });

  it('refuses invalid JSON naming the character where it breaks, never quoting the body', async () => {
    const { error } = await parseWith('{"key":"sk_live_secretvalue" "x"}');
    expect(error).toMatchObject({ status: 400, message: 'The body is not valid JSON (at character 30).' });
    expect(jsonBodyProblem('sk_live_secretvalue')).toBe('The body is not valid JSON.');
    expect(jsonBodyProblem('{"a":')).toBe('The body is not valid JSON.');
  });

  it('reads an empty body as no body, where Fastify refuses it', async () => {
    await expect(parseWith('')).resolves.toEqual({ error: null, value: undefined });
    await expect(parseWith(Buffer.alloc(0))).resolves.toEqual({ error: null, value: undefined });
    // Only an empty one: white space is not JSON.
    await expect(parseWith(' ')).resolves.toMatchObject({ error: { status: 400 } });
  });
});
