import { describe, expect, it } from 'vitest';
import { parseByteSize } from './size.js';

describe('parseByteSize', () => {
  it.each([
    ['1048576', 1048576],
    ['1Mi', 1048576],
    ['1.5Ki', 1536],
    ['100M', 100_000_000],
    ['10Gi', 10 * 1024 ** 3],
  ])('%s is %i bytes', (text, bytes) => expect(parseByteSize(text)).toBe(bytes));

  it.each(['', '0', '1 Mi', '1mi', '-5', 'lots'])('rejects %j naming the flag', (text) => {
    expect(() => parseByteSize(text, '--max-result-size')).toThrow(
      /--max-result-size: invalid size/,
    );
  });
});
