import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { decodeDoubleQuoted, foldLines, resolvePlain } from './yamlscalar.js';

/** What the yaml package (YAML 1.2 core schema) makes of `text` as a map value. */
function viaYaml(text: string): unknown {
  return (parse(`v: ${text}\n`) as { v: unknown }).v;
}

describe('resolvePlain', () => {
  it.each([
    '',
    '~',
    'null',
    'Null',
    'NULL',
    'nULL',
    'true',
    'True',
    'TRUE',
    'tRUE',
    'false',
    'False',
    'FALSE',
    'yes',
    'no',
    'on',
    'off',
    'y',
    '0',
    '-0',
    '+12',
    '007',
    '-3',
    '12345678901234567890',
    '0o17',
    '0o8',
    '0x1F',
    '0X1F',
    '0xg',
    '1.5',
    '1.',
    '.5',
    '-.5',
    '+1.50',
    '1e3',
    '1E-3',
    '.5e3',
    '1.e2',
    'e3',
    '1e',
    '.inf',
    '-.Inf',
    '+.INF',
    '.nan',
    '.NaN',
    '.NAN',
    '-.nan',
    'inf',
    '1_000',
    '1:2',
    '12:30:00',
    '2001-12-14',
    '.',
    '+',
    'passed',
    'failed',
    '~x',
    'nullx',
  ])('%j as the core schema reads it', (text) => {
    const want = text === '' ? null : viaYaml(text);
    const got = resolvePlain(text);
    if (typeof want === 'number' && Number.isNaN(want)) expect(got).toBeNaN();
    else expect(got).toStrictEqual(want);
  });
});

describe('foldLines', () => {
  it.each([
    ['one line', 'one line'],
    ['a  \n  b', 'a b'],
    ['a\n\n  b', 'a\nb'],
    ['a\n  \n\n  b', 'a\n\nb'],
    ['a\n   ', 'a '],
    ['  lead\n  b', '  lead b'],
  ])('%j → %j, as the yaml package unfolds it', (raw, want) => {
    expect(foldLines(raw)).toBe(want);
    expect(viaYaml(`'${raw.replaceAll('\n', '\n  ')}'`)).toBe(want);
  });
});

describe('decodeDoubleQuoted', () => {
  it.each([
    ['plain', 'plain'],
    [
      '\\n\\t\\\\\\"\\/\\0\\a\\b\\e\\f\\r\\v\\ \\N\\_\\L\\P',
      '\n\t\\"/\0\x07\b\x1b\f\r\v \u0085\u00a0\u2028\u2029',
    ],
    ['\\x41\\u00e9\\U0001F600', 'Aé😀'],
    ['a  \n  b', 'a b'],
    ['a\\  \n  b', 'a  b'],
    ['a\\\n   b', 'ab'],
    ['a\n\n\n b', 'a\n\nb'],
    ['a\\t\n b', 'a\t b'],
  ])('%j', (raw, want) => {
    expect(decodeDoubleQuoted(raw)).toBe(want);
    expect(viaYaml(`"${raw.replaceAll('\n', '\n  ')}"`)).toBe(want);
  });

  it.each(['\\q', '\\x4', '\\u12G4', '\\U00110000', 'end\\', 'a\\\n\n b'])(
    'steps aside for %j',
    (raw) => expect(decodeDoubleQuoted(raw)).toBeUndefined(),
  );
});
