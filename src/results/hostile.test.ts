/**
 * Hostile inputs through the whole post-processing path: each must end as an error item (or a
 * FathomError for tarballs, see tarball.test.ts), never a crash, a hang or unbounded memory.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postProcessPlugin, type ProcessedPlugin } from './process.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fathom-hostile-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
/** A fresh plugin whose only result file holds `content`. */
async function pluginWith(
  format: string,
  file: string,
  content: string | Buffer,
): Promise<ProcessedPlugin> {
  const name = `h${n++}`;
  const p = join(root, 'plugins', name, 'results/global', file);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, content);
  return { name, driver: 'Job', resultFormat: format, resultFiles: [] };
}

const lolz = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<testsuite name="s"><testcase name="&lol4;"/></testsuite>`;

const aliasBomb = ['a: &a [x,x,x,x,x,x,x,x,x,x]']
  .concat(
    Array.from(
      { length: 8 },
      (_, i) =>
        `${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(',')}]`,
    ),
  )
  .concat(['details: {boom: *i}'])
  .join('\n');

describe('hostile result files', () => {
  it.each([
    ['junit', 'lolz.xml', lolz, /invalid character entity &lol4;/],
    [
      'junit',
      'xxe.xml',
      '<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite><testcase name="&x;"/></testsuite>',
      /&x;/,
    ],
    ['junit', 'attr.xml', `<testsuite name="${'A'.repeat(3 * 1024 * 1024)}"/>`, /tag longer than/],
    ['junit', 'deep.xml', `<testsuite>${'<x>'.repeat(100_000)}`, /nested deeper than 256/],
    ['junit', 'binary.xml', randomBytes(256 * 1024), /./],
    ['gojson', 'binary.json', randomBytes(256 * 1024), /./],
    ['manual', 'bomb.yaml', aliasBomb, /alias/i],
    ['manual', 'types.yaml', 'name: x\nitems: {not: a list}\n', /items: expected a list/],
    ['manual', 'deep.yaml', `${'['.repeat(50_000)}${']'.repeat(50_000)}`, /./],
    ['manual', 'binary.yaml', randomBytes(64 * 1024), /./],
  ])('%s %s becomes an unknown file item with meta.error', async (format, file, content, error) => {
    const p = await pluginWith(format, file, content);
    const item = await postProcessPlugin(root, p);
    const fileItem = item.items![0]!;
    expect(fileItem.name).toBe(file);
    expect(fileItem.status).toBe('unknown');
    expect(fileItem.meta!.error).toMatch(error);
    expect(item.status).toBe('unknown');
  });

  it('invalid UTF-8 in junit is replaced, not fatal', async () => {
    const content = Buffer.concat([
      Buffer.from('<testsuite><testcase name="a'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"/></testsuite>'),
    ]);
    const item = await postProcessPlugin(root, await pluginWith('junit', 'utf8.xml', content));
    expect(item.status).toBe('passed');
    expect(item.items![0]!.items![0]!.items![0]!.name).toBe('a\ufffd(\ufffd');
  });

  it('gojson with broken lines keeps the good events and flags the file', async () => {
    const item = await postProcessPlugin(
      root,
      await pluginWith(
        'gojson',
        'mixed.json',
        '{"Action":"pass","Test":"a"}\n<<garbage>>\n{"Action":"fail","Test":"b"}\n{"Action":',
      ),
    );
    const file = item.items![0]!;
    expect(file.items!.map((i) => i.name)).toEqual(['a', 'b']);
    expect(file.meta!.error).toBe("invalid character '<' looking for beginning of value");
    expect(item.status).toBe('failed');
  });

  it('an error.json nested absurdly deep is an error item, not a crash', async () => {
    const name = `h${n++}`;
    const p = join(root, 'plugins', name, 'errors/global/error.json');
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, `{"error":"x","pod":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    const item = await postProcessPlugin(root, {
      name,
      driver: 'Job',
      resultFormat: 'junit',
      resultFiles: [],
    });
    expect(item.items![0]!.status).toBe('failed');
    expect(item.items![0]!.meta!.error).toMatch(/^decoding errors\/global\/error.json/);
  });
});
