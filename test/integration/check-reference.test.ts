/** check names the real problem of what it was given: a reference that does not parse comes before its tag. */
import { afterAll, describe, expect, it } from 'vitest';
import { makeRepo, runCli } from '../support/cli.js';

const { root, cleanup } = makeRepo({ 'builder-images.yaml': 'repositories: [ghcr.io/acme/builders]\n' });
afterAll(() => cleanup());

describe('check <reference>', () => {
  it('an invalid reference is reported as such (exit 2), with or without --gcc, nothing read', async () => {
    for (const extra of [[], ['--gcc', '12.0.0']]) {
      const r = await runCli(['check', ...extra, 'not a ref'], root);
      expect(r).toMatchObject({ code: 2, stdout: '' });
      expect(r.stderr).toBe('error: invalid image reference "not a ref": it contains white space: give a registry reference, oci:DIR[:REF], docker-archive:FILE[:TAG] or docker:/podman:/buildah:IMAGE\n');
    }
    expect((await runCli(['check', 'ghcr.io/acme/builders:any-x86_64_gcc12.0.0-latest', 'Bad/Ref:x'], root)).stderr).toMatch(/^error: invalid image reference "Bad\/Ref:x"/);
    expect((await runCli(['check', 'docker:'], root)).stderr).toBe('error: docker:: "" is not an image name: write docker:IMAGE[:TAG]\n');
  });

  it('a valid reference whose tag is not a builder tag still asks for --name or --gcc', async () => {
    const r = await runCli(['check', 'ghcr.io/acme/builders:v1'], root);
    expect(r).toMatchObject({ code: 2, stderr: 'error: cannot tell which GCCs ghcr.io/acme/builders:v1 must hold: its tag is not a builder tag; pass --name or --gcc\n' });
  });
});
