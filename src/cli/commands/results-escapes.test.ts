/**
 * Issue 8 item 7: names, messages and files from results reach a terminal with their control
 * characters shown as escapes in every text mode, while dump mode and `-o json|yaml` stay exact.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../../../test/support/main.js';

// eslint-disable-next-line no-control-regex
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
let dir: string;

// YAML escapes: \e is ESC, \x9b the one-byte CSI, \x07 BEL.
const EVIL_YAML = `name: evil
status: failed
items:
- name: "\\e[2J\\e[31mclears the screen\\x9b0m"
  status: failed
  details:
    failure: "boom\\x07 \\e]0;title\\x07"
- name: log
  status: passed
  meta:
    file: results/global/log.txt
`;
// A manual-format file written by the plugin itself, with raw control bytes in it.
const RAW_YAML =
  'name: raw\nstatus: passed\nitems:\n- name: "tab\there"\n  status: passed\n# \x1b[2Jgone\r\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-results-escapes-'));
  await mkdir(join(dir, 'meta'));
  await writeFile(join(dir, 'meta/info.json'), JSON.stringify({ plugins: ['evil', 'raw'] }));
  await mkdir(join(dir, 'plugins/evil/results/global'), { recursive: true });
  await writeFile(join(dir, 'plugins/evil/sonobuoy_results.yaml'), EVIL_YAML);
  await writeFile(join(dir, 'plugins/evil/results/global/log.txt'), 'line\x1b[1A\x1b[2K\r\n');
  await mkdir(join(dir, 'plugins/raw'), { recursive: true });
  await writeFile(join(dir, 'plugins/raw/sonobuoy_results.yaml'), RAW_YAML);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `fathom results` on the tarball dir unless the first argument is an absolute path. */
function results(...args: string[]) {
  const path = args[0]?.startsWith('/') ? [] : [dir];
  return runMain(['results', ...path, ...args], { cwd: dir });
}

describe('fathom results shows control characters as escapes', () => {
  it('report mode: failed test names', async () => {
    const r = await results('-p', 'evil');
    expect(r.out).toContain('Failed tests:\n\\u001b[2J\\u001b[31mclears the screen\\u009b0m\n');
    expect(r.out).not.toMatch(RAW);
  });

  it('detailed mode: JSON lines stay JSON with the same values, files lose their escapes', async () => {
    const r = await results('-p', 'evil', '-m', 'detailed');
    expect(r.out.replaceAll('\r\n', '\n')).not.toMatch(RAW);
    const [json, file] = r.out.split('\n');
    const line = JSON.parse(json!) as { name: string; details: { failure: string } };
    expect(line.name).toBe('\x1b[2J\x1b[31mclears the screen\x9b0m');
    expect(line.details.failure).toBe('boom\x07 \x1b]0;title\x07');
    // The copied file keeps its CRLF line end, not its cursor movements.
    expect(`${file}\n`).toBe('evil|log line\\u001b[1A\\u001b[2K\r\n');
  });

  it('readable mode: the file as text, tabs and newlines kept', async () => {
    const r = await results('-p', 'raw', '-m', 'readable');
    expect(r.out).toBe(RAW_YAML.replace('\x1b', '\\u001b'));
  });

  it('dump mode and -o json|yaml stay exact', async () => {
    expect((await results('-p', 'raw', '-m', 'dump')).out).toBe(RAW_YAML);
    const json = JSON.parse((await results('-p', 'evil', '-o', 'json')).out) as {
      plugins: { failedTests: string[] }[];
    };
    expect(json.plugins[0]!.failedTests).toEqual(['\x1b[2J\x1b[31mclears the screen\x9b0m']);
    const yaml = (await results('-p', 'evil', '-o', 'yaml')).out;
    expect(yaml).toContain('\\e[2J\\e[31mclears the screen');
  });

  it('the one-line error shows what it quotes escaped', async () => {
    // oneLine() in results-show escapes its own messages; main() escapes every other one.
    for (const args of [['-p', 'no\x1b[2Jsuch'], [join(dir, 'gone\x1b[2J')]]) {
      const r = await results(...args);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/^error: .*\\u001b\[2J.*\n$/);
      expect(r.err).not.toMatch(RAW);
    }
  });
});
