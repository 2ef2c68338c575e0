/**
 * The flake of headers-stage.test.ts (about 1 run in 120: "zstd -d failed: … premature end"): execa strips a final
 * newline from binary output too, so a zstd frame whose checksum's last byte is 0x0a lost it. Pinned here: the
 * -common package's data.tar at this mtime compresses to a frame ending in 0x0a.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageHeaders } from '../../src/adapters/headers/stage.js';
import { compress, debianHeaders, makeDeb, makeTar } from '../support/kernel-packages.js';

const NEWLINE_ENDING = new Date('2024-01-01T00:07:32Z');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bi-headers-nl-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a zstd-compressed fixture whose frame ends in 0x0a', () => {
  const headers = debianHeaders('6.1.0-56', 'amd64');

  it('keeps its last byte: the frame is whole (zstd -d reads it back)', async () => {
    const data = await makeTar(headers.common, NEWLINE_ENDING);
    const frame = await compress(data, 'zst');
    expect(frame.at(-1)).toBe(0x0a);
    expect(execFileSync('zstd', ['-d', '-c', '-q'], { input: frame, maxBuffer: 1 << 30 }).equals(data)).toBe(true);
  });

  it('is staged as a kernel tree', async () => {
    const write = async (name: string, bytes: Buffer) => {
      const path = join(dir, name);
      await writeFile(path, bytes);
      return { location: path };
    };
    const staged = await stageHeaders(
      [
        await write('linux-headers-6.1.0-56-amd64_6.1.192-2_amd64.deb', await makeDeb(headers.arch, 'amd64', 'xz')),
        await write('linux-headers-6.1.0-56-common_6.1.192-2_all.deb', await makeDeb(headers.common, 'all', 'zst', NEWLINE_ENDING)),
        await write('linux-kbuild-6.1_6.1.192-2_amd64.deb', await makeDeb(headers.kbuild, 'amd64', 'gz')),
      ],
      { cwd: dir, cacheDir: join(dir, 'cache') },
    );
    const common = staged.kernels[0]!.mounts.find((m) => m.target === '/usr/src/linux-headers-6.1.0-56-common')!;
    expect(await readFile(join(common.source, 'Makefile'), 'utf8')).toBe('VERSION = 6\n');
  });
});
