import { afterEach, describe, expect, it } from 'vitest';
import { makeRepo, runCli } from '../support/cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function repo(files: Record<string, string>) {
  const r = makeRepo(files);
  cleanups.push(r.cleanup);
  return r.root;
}

/** A bare kernel tree: enough for staging to find a build dir, its release and arch. */
const TREE = {
  'builder-images.yaml': 'repositories: [127.0.0.1:5000/builders]\nengine: buildah\n',
  'kernel/.config': 'CONFIG_X86_64=y\n',
  'kernel/Makefile': '',
  'kernel/include/generated/utsrelease.h': '#define UTS_RELEASE "6.1.0-56-amd64"\n',
};

describe('verify: usage', () => {
  it('needs headers (flags or config), valid sha256s, and images whose GCCs are known', async () => {
    const root = repo(TREE);
    const none = await runCli(['verify'], root);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/give kernel headers \(--headers <sources…>\), or list kernels under verify:/);
    const badSha = await runCli(['verify', '--headers', 'kernel#sha256=abc'], root);
    expect(badSha.code).toBe(2);
    expect(badSha.stderr).toMatch(/64 lower-case hex/);
    const unknown = await runCli(['verify', 'docker.io/library/debian:bookworm', '--headers', 'kernel'], root);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/cannot tell which GCCs docker.io\/library\/debian:bookworm holds.*--gcc/);
  });

  it('validates the config verify list, naming the key', async () => {
    const root = repo({ ...TREE, 'builder-images.yaml': 'verify:\n  - arch: sparc\n    headers: [kernel]\n' });
    const r = await runCli(['verify'], root);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/builder-images.yaml:\d+: "verify.0.arch"/);
  });
});

describe('verify: a run that cannot build fails with the reason (real buildah)', () => {
  it('reports the kernel read from the headers and the engine error, in text, json and github formats', async () => {
    const root = repo(TREE);
    const args = ['verify', 'buildah:localhost/builder-images-test-absent:1', '--gcc', '12.0.0', '--headers', 'kernel'];
    const text = await runCli(args, root);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^KERNEL\s+ARCH\s+IMAGE\s+GCC\s+VERDICT\s+SECONDS$/m);
    expect(text.stdout).toMatch(/6\.1\.0-56-amd64\s+x86_64\s+localhost\/builder-images-test-absent:1\s+12\.0\.0\s+fail/);
    expect(text.stdout).toMatch(/the engine could not run the image/);
    expect(text.stderr).toMatch(/kernel 6\.1\.0-56-amd64 \(x86_64, target any\) from kernel\/include\/generated\/utsrelease\.h/);
    const json = await runCli([...args, '--json'], root);
    expect(JSON.parse(json.stdout)).toMatchObject([{ kernel: '6.1.0-56-amd64', arch: 'x86_64', target: 'any', gcc: '12.0.0', verdict: 'fail' }]);
    const github = await runCli([...args, '--format', 'github', '--target', 'debian', '--kernel-release', '6.1.0-99-amd64'], root);
    expect(github.stdout).toMatch(/^::error title=verify::kernel 6\.1\.0-99-amd64 \(x86_64\) with localhost\/builder-images-test-absent:1 gcc 12\.0\.0: /m);
  });
});
