import { describe, expect, it } from 'vitest';
import { enableCompileCache, userCacheDir } from './launch.js';

describe('userCacheDir', () => {
  it('is XDG_CACHE_HOME when absolute, else ~/.cache, on Linux', () => {
    expect(userCacheDir({ XDG_CACHE_HOME: '/var/cache/me' }, 'linux', '/home/me')).toBe(
      '/var/cache/me',
    );
    expect(userCacheDir({ XDG_CACHE_HOME: 'relative' }, 'linux', '/home/me')).toBe(
      '/home/me/.cache',
    );
    expect(userCacheDir({}, 'linux', '/home/me')).toBe('/home/me/.cache');
  });

  it("is the platform's own elsewhere", () => {
    expect(userCacheDir({}, 'darwin', '/Users/me')).toBe('/Users/me/Library/Caches');
    expect(userCacheDir({ LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local' }, 'win32', 'C:\\x')).toBe(
      'C:\\Users\\me\\AppData\\Local',
    );
  });
});

describe('enableCompileCache', () => {
  it('does nothing on a Node without the API and when NODE_DISABLE_COMPILE_CACHE is set', () => {
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    const hasApi = major > 22 || (major === 22 && minor >= 1);
    expect(enableCompileCache({ NODE_DISABLE_COMPILE_CACHE: '1' })).toBe(
      hasApi ? 'disabled' : 'unsupported',
    );
  });
});
