import { describe, expect, it } from 'vitest';
import { aggregateTree, type Item } from './item.js';
import { readJunit } from './junit.js';

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<string | Uint8Array> {
  for (const p of parts) yield await Promise.resolve(p);
}

const read = (xml: string | Uint8Array, limits?: Parameters<typeof readJunit>[2]): Promise<Item> =>
  readJunit(
    chunks(xml),
    { name: 'f.xml', status: 'unknown', meta: { file: 'results/global/f.xml', type: 'file' } },
    limits,
  );

describe('readJunit', () => {
  it('maps testcases: skipped beats failure, failure and error fail, details joined and trimmed', async () => {
    const item = await read(`<testsuite name="s">
      <system-out>suite output is not kept</system-out>
      <testcase name="pass" classname="c" time="1"/>
      <testcase name="skip+fail"><skipped/><failure message="m">body</failure></testcase>
      <testcase name="fail"><failure message="msg">  body <nested>not mine</nested> tail  </failure></testcase>
      <testcase name="err"><error type="x">only body</error></testcase>
      <testcase name="empty failure"><failure/></testcase>
      <testcase name="out"><system-out>  keep\n  as is </system-out><system-err>e</system-err></testcase>
    </testsuite>`);
    expect(item).toEqual({
      name: 'f.xml',
      status: 'failed',
      meta: { file: 'results/global/f.xml', type: 'file' },
      items: [
        {
          name: 's',
          status: 'failed',
          items: [
            { name: 'pass', status: 'passed' },
            { name: 'skip+fail', status: 'skipped', details: { failure: 'm body' } },
            { name: 'fail', status: 'failed', details: { failure: 'msg   body  tail' } },
            { name: 'err', status: 'failed', details: { error: 'only body' } },
            { name: 'empty failure', status: 'failed' },
            {
              name: 'out',
              status: 'passed',
              details: { 'system-out': '  keep\n  as is ', 'system-err': 'e' },
            },
          ],
        },
      ],
    });
  });

  it('numbers unnamed suites by position and nests suites found inside suites', async () => {
    const item = await read(`<testsuites>
      <testsuite><testcase name="a"/></testsuite>
      <testsuite name="named"><testcase name="b"/>
        <testsuite><testcase name="inner"><failure/></testcase></testsuite>
      </testsuite>
      <testsuite name=""/>
    </testsuites>`);
    expect(item.items!.map((s) => s.name)).toEqual(['testsuite-001', 'named', 'testsuite-003']);
    const named = item.items![1]!;
    expect(named.items!.map((i) => i.name)).toEqual(['b', 'testsuite-001']);
    // A failure deep inside marks every enclosing suite and the file.
    expect([item.status, named.status, named.items![1]!.status]).toEqual([
      'failed',
      'failed',
      'failed',
    ]);
    // An empty suite passes, as in Sonobuoy.
    expect(
      aggregateTree({ name: 'r', status: '', items: [item] }).items![0]!.items![2]!.status,
    ).toBe('passed');
  });

  it('accepts namespace prefixes, a BOM and invalid UTF-8 (replaced, not fatal)', async () => {
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('<j:testsuite name="s"><j:testcase name="bad '),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"/></j:testsuite>'),
    ]);
    const item = await read(bytes);
    expect(item.items![0]!.items![0]!.name).toBe('bad \ufffd\ufffd');
  });

  it.each([
    ['<foo/>', 'expected element type <testsuite> but have <foo>'],
    ['', 'EOF'],
    ['<testsuite><testcase name="x">', 'XML syntax error on line 1: unexpected EOF'],
    [
      '<testsuite>&bogus;</testsuite>',
      'XML syntax error on line 1: invalid character entity &bogus;',
    ],
  ])('leaves the file unknown with meta.error for %j', async (xml, error) => {
    const item = await read(xml);
    expect(item).toEqual({
      name: 'f.xml',
      status: 'unknown',
      meta: { file: 'results/global/f.xml', type: 'file', error },
    });
  });

  it('cuts very long texts with a note and caps the number of test cases', async () => {
    const long = await read(
      `<testsuite><testcase name="x"><system-out>${'a'.repeat(5000)}</system-out></testcase></testsuite>`,
      {
        maxTextChars: 1000,
      },
    );
    expect(long.items![0]!.items![0]!.details!['system-out']).toBe(
      `${'a'.repeat(1000)}\n... [fathom: 4000 more characters cut]`,
    );
    const many = await read(`<testsuite>${'<testcase name="t"/>'.repeat(11)}</testsuite>`, {
      maxItems: 10,
    });
    expect(many.status).toBe('unknown');
    expect(many.meta!.error).toMatch(/more than 10 test cases/);
  });

  it('streams a 200 MB file without holding it', async () => {
    const mib = 'x'.repeat(1024 * 1024);
    let peak = 0;
    const base = process.memoryUsage().heapUsed;
    async function* big(): AsyncGenerator<string> {
      yield '<testsuite name="big"><testcase name="t"><system-out>';
      for (let i = 0; i < 200; i++) {
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
        yield await Promise.resolve(mib);
      }
      yield '</system-out></testcase>';
      for (let i = 0; i < 10_000; i++) yield `<testcase name="case ${i}"/>`;
      yield '</testsuite>';
    }
    const item = await readJunit(big(), { name: 'big.xml', status: '' });
    expect(item.status).toBe('passed');
    expect(item.items![0]!.items).toHaveLength(10_001);
    expect(String(item.items![0]!.items![0]!.details!['system-out'])).toMatch(
      /\[fathom: 208666624 more characters cut\]$/,
    );
    // Holding the text would take 400 MB (UTF-16); streaming stays far below.
    expect(peak).toBeLessThan(150 * 1024 * 1024);
  });
});
