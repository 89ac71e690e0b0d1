import { describe, expect, it } from 'vitest';
import { displayWidth, kubectlTable } from './table.js';

describe('kubectlTable', () => {
  it('pads every column to its widest line, two spaces apart, with multi-line cells', () => {
    const t = kubectlTable(['A', 'BB', 'C']);
    t.push(['x', '\x1b[31mred\x1b[39m', 'multi\nline']);
    t.push(['日本語', '', 'z']);
    expect(t.toString()).toBe(
      [
        ' A         BB     C     ',
        ' x         \x1b[31mred\x1b[39m    multi ',
        '                  line  ',
        ' 日本語           z     ',
      ].join('\n'),
    );
  });

  it('measures each cell line once however many rows there are (linear, not rows × rows)', () => {
    for (const n of [1_000, 8_000]) {
      let calls = 0;
      const t = kubectlTable(['NAMESPACE', 'KIND', 'NAME', 'STATUS', 'MESSAGE'], {
        width: (s) => {
          calls++;
          return s.length;
        },
      });
      for (let i = 0; i < n; i++) t.push(['ns', 'Pod', `pod-${i}`, 'Current', 'two\nlines']);
      const text = t.toString();
      // One call per header cell, one per cell line of each row; printing measures nothing again.
      expect(calls).toBe(5 + n * 6);
      expect(text.split('\n')).toHaveLength(1 + n * 2);
    }
  });
});

describe('displayWidth', () => {
  it('counts colour codes as nothing, wide characters as two, combining marks as none', () => {
    expect(displayWidth('plain')).toBe(5);
    expect(displayWidth('\x1b[32mok\x1b[39m')).toBe(2);
    expect(displayWidth('日本')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('ｆｕｌｌ')).toBe(8);
  });
});
