import { describe, expect, it } from 'vitest';
import { formatLogLine } from './logs.js';

describe('formatLogLine', () => {
  it('turns pino lines into time, level, message and fields', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 0, 1, 12, 30, 5, 7),
      run: 'x',
      msg: 'plugin error result',
      plugin: 'p',
      node: 'global',
    });
    expect(formatLogLine('aggregator', line)).toBe(
      '[aggregator] 12:30:05.007 WARN  plugin error result plugin=p node=global',
    );
  });

  it("prints a plugin's own output unchanged", () => {
    expect(formatLogLine('p/global/plugin', '{not json')).toBe('[p/global/plugin] {not json');
    expect(formatLogLine('p/global/plugin', 'hello')).toBe('[p/global/plugin] hello');
  });
});
