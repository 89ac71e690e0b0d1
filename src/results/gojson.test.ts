import { describe, expect, it } from 'vitest';
import { readGojson } from './gojson.js';
import type { Item } from './item.js';

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<string | Uint8Array> {
  for (const p of parts) yield await Promise.resolve(p);
}

const file = (): Item => ({
  name: 'out.json',
  status: 'unknown',
  meta: { file: 'results/global/out.json', type: 'file' },
});

describe('readGojson', () => {
  it('keeps pass/fail/skip events with a test name, in stream order, keys matched case-insensitively', async () => {
    const item = await readGojson(
      chunks(
        '{"Action":"run","Test":"A"}\n{"Action":"output","Test":"A","Output":"x {\\"}\\n"}\n',
        '{"action":"pass","TEST":"A"}{"Action":"fail","Test":"B"}  {"Action":"skip","Test":"C"}\n',
        '{"Action":"pass","Package":"pkg"}\n{"Action":"start","Test":"D"}\n{"Action":"bench","Test":"E"}\n',
      ),
      file(),
    );
    expect(item).toEqual({
      ...file(),
      status: 'passed',
      items: [
        { name: 'A', status: 'passed' },
        { name: 'B', status: 'failed' },
        { name: 'C', status: 'skipped' },
        { name: 'D', status: 'unknown' },
      ],
    });
  });

  it('splits values correctly across arbitrary chunk boundaries, with multi-byte text', async () => {
    const stream = '{"Action":"pass","Test":"é{[\\"]}😀"}\n{"Action":"fail","Test":"two"}\n';
    const bytes = Buffer.from(stream);
    for (let i = 1; i < bytes.length; i++) {
      const item = await readGojson(chunks(bytes.subarray(0, i), bytes.subarray(i)), file());
      expect(item.items, `split at ${i}`).toEqual([
        { name: 'é{["]}😀', status: 'passed' },
        { name: 'two', status: 'failed' },
      ]);
    }
  });

  it('tolerates broken lines: records the first error, skips to the next line, keeps reading', async () => {
    const item = await readGojson(
      chunks(
        '{"Action":"pass","Test":"one"}\n',
        'FAIL	example.com/pkg	0.01s\n',
        '{"Action":"pass","Test":1}\n',
        '{"Action":"pass","Test":"two",}\n',
        '[1,2]\n',
        '{"Action":"fail","Test":"three"}\n',
      ),
      file(),
    );
    expect(item.items).toEqual([
      { name: 'one', status: 'passed' },
      { name: 'three', status: 'failed' },
    ]);
    expect(item.status).toBe('unknown');
    expect(item.meta!.error).toBe("invalid character 'F' looking for beginning of value");
  });

  it('reports a truncated stream as unexpected EOF', async () => {
    const item = await readGojson(chunks('{"Action":"pass","Test":"one"}\n{"Action":"pa'), file());
    expect(item.items).toEqual([{ name: 'one', status: 'passed' }]);
    expect(item.meta!.error).toBe('unexpected EOF');
  });

  it('skips an oversized or too deeply nested event without buffering it', async () => {
    const huge = `{"Action":"output","Test":"x","Output":"${'a'.repeat(10_000)}"}\n`;
    const deep = `{"a":${'['.repeat(600)}${']'.repeat(600)}}\n`;
    const item = await readGojson(chunks(huge, deep, '{"Action":"pass","Test":"ok"}'), file(), {
      maxEventBytes: 1000,
    });
    expect(item.items).toEqual([{ name: 'ok', status: 'passed' }]);
    expect(item.meta!.error).toBe('event larger than 1000 bytes skipped');
  });

  it('caps the number of tests', async () => {
    const events = Array.from({ length: 5 }, (_, i) => `{"Action":"pass","Test":"t${i}"}\n`);
    const item = await readGojson(chunks(...events), file(), { maxItems: 3 });
    expect(item.items).toHaveLength(3);
    expect(item.meta!.error).toBe('more than 3 test events');
  });

  it('reads a 100,000-test stream in pieces', async () => {
    async function* stream(): AsyncGenerator<string> {
      for (let i = 0; i < 100_000; i += 1000) {
        let s = '';
        for (let j = i; j < i + 1000; j++) {
          s += `{"Time":"2026-01-01T00:00:00Z","Action":"run","Test":"T${j}"}\n{"Action":"output","Test":"T${j}","Output":"=== RUN T${j}\\n"}\n`;
          s += `{"Action":"${j % 100 === 0 ? 'fail' : 'pass'}","Test":"T${j}","Elapsed":0.01}\n`;
        }
        yield await Promise.resolve(s);
      }
    }
    const item = await readGojson(stream(), file());
    expect(item.items).toHaveLength(100_000);
    expect(item.items!.filter((i) => i.status === 'failed')).toHaveLength(1000);
    expect(item.meta!.error).toBeUndefined();
  });
});
