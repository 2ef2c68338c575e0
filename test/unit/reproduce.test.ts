import { describe, expect, it } from 'vitest';
import { cleanPath, diffConfigs, diffLayer, knownCause, summarizeDifferences, type FileFacts } from '../../src/core/reproduce.js';

const file = (extra: Partial<FileFacts> = {}): FileFacts => ({ type: 'file', mode: 0o644, uid: 0, gid: 0, size: 3, mtime: '100', sha256: 'aa', ...extra });

describe('diffLayer', () => {
  it('names each way a file differs, and files only one build has', () => {
    const first = new Map<string, FileFacts>([
      ['/same', file()],
      ['/content', file()],
      ['/meta', file()],
      ['/link', { type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: '100', linkname: 'a' }],
      ['/kind', file()],
      ['/gone', file()],
    ]);
    const second = new Map<string, FileFacts>([
      ['/same', file()],
      ['/content', file({ sha256: 'bb' })],
      ['/meta', file({ mode: 0o755, uid: 1, mtime: '101' })],
      ['/link', { type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: '100', linkname: 'b' }],
      ['/kind', { type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 }],
      ['/var/log/apt/history.log', file()],
    ]);
    expect(diffLayer(3, first, second)).toEqual([
      { layer: 3, path: '/content', differs: ['content'] },
      { layer: 3, path: '/gone', differs: ['only in the first build'] },
      { layer: 3, path: '/kind', differs: ['type'] },
      { layer: 3, path: '/link', differs: ['link'] },
      { layer: 3, path: '/meta', differs: ['mode', 'owner', 'time'] },
      { layer: 3, path: '/var/log/apt/history.log', differs: ['only in the second build'], cause: expect.stringContaining('/var/log/apt') },
    ]);
    expect(diffLayer(1, first, first)).toEqual([]);
  });

  it('knows the usual suspects and nothing else', () => {
    expect(knownCause('/var/cache/ldconfig/aux-cache')).toMatch(/ldconfig/);
    expect(knownCause('/usr/lib/python3/dist-packages/x/__pycache__/y.cpython-311.pyc')).toMatch(/bytecode/);
    expect(knownCause('/var/lib/dpkg/status-old')).toMatch(/backup/);
    expect(knownCause('/etc/machine-id')).toMatch(/machine id/);
    expect(knownCause('/var/log/dpkg.log')).toMatch(/dpkg/);
    expect(knownCause('/usr/bin/gcc-12')).toBeUndefined();
    expect(knownCause('/var/lib/dpkg/status')).toBeUndefined();
  });

  it('cleans tar paths and sums up', () => {
    expect(cleanPath('./usr//bin/../lib/x')).toBe('/usr/lib/x');
    expect(summarizeDifferences([])).toBe('0 file(s) differ');
    expect(summarizeDifferences([{ layer: 1, path: '/a', differs: ['content'], cause: 'x' }, { layer: 1, path: '/b', differs: ['time'] }])).toBe('2 file(s) differ (1 with a known cause, 1 unexplained)');
  });
});

describe('diffConfigs', () => {
  it('names the keys that differ, one level into objects', () => {
    const a = { created: '1', architecture: 'amd64', config: { Labels: { x: '1' }, Env: ['A=1'] }, history: [{ created: '1' }] };
    const b = { created: '2', architecture: 'amd64', config: { Labels: { x: '2' }, Env: ['A=1'] }, history: [{ created: '2' }], extra: true };
    expect(diffConfigs(a, b)).toEqual(['config.Labels.x', 'created', 'extra', 'history']);
    expect(diffConfigs(a, a)).toEqual([]);
  });
});
