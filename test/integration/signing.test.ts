/**
 * push --sign's signatures as Debian's skopeo (containers/image) verifies them: a policy that requires the key
 * (signedBy, GPGKeys) and a registries.d entry pointing at the lookaside store. The signed image is accepted;
 * a re-pushed (tampered) manifest under the signed tag, a tag never signed and another key's signature are refused.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { readPayload } from '../../src/core/simple-signing.js';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { signPublished } from '../../src/app/sign.js';
import type { PushResult } from '../../src/app/push.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushRandomImage } from '../support/synthetic-images.js';

function makeKey(home: string, name: string): { env: NodeJS.ProcessEnv; fingerprint: string; publicKey: string } {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: home };
  execFileSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', `${name} <${name}@example.com>`, 'ed25519', 'sign', 'never'], { env, stdio: 'ignore' });
  const fingerprint = execFileSync('gpg', ['--with-colons', '--list-secret-keys'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9]!;
  const publicKey = join(home, 'public.gpg');
  writeFileSync(publicKey, execFileSync('gpg', ['--export', fingerprint], { env }));
  return { env, fingerprint, publicKey };
}

function pushed(tags: string[], digest: string): PushResult {
  return { images: [{ file: 'x', arch: 'x86_64', tag: tags[0]!, tags, status: 'pushed', digest }], indexes: [], copies: [], ok: true };
}

describe('simple signing verified by skopeo under a signedBy policy', () => {
  let reg: TestRegistry;
  let work: string;
  let key: ReturnType<typeof makeKey>;
  let other: ReturnType<typeof makeKey>;
  const client = new RegistryClient();
  beforeAll(async () => {
    reg = await startRegistry();
    work = mkdtempSync(join(tmpdir(), 'bi-sign-'));
    key = makeKey(join(work, 'gnupg'), 'builder');
    other = makeKey(join(work, 'gnupg-other'), 'intruder');
  });
  afterAll(async () => {
    for (const k of [key, other]) if (k) spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: k.env });
    rmSync(work, { recursive: true, force: true });
    await reg?.stop();
  });

  /** skopeo copy under a policy that requires `key` for the repository; exit status and stderr. */
  function skopeoCopy(image: string, registriesD: string): { ok: boolean; stderr: string } {
    const policy = join(work, 'policy.json');
    writeFileSync(policy, JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { [`${reg.host}/builders`]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: key.publicKey }] } } }));
    const dest = mkdtempSync(join(work, 'copy-'));
    const r = spawnSync('skopeo', ['--policy', policy, '--registries.d', registriesD, 'copy', '--src-tls-verify=false', `docker://${image}`, `dir:${dest}`], { encoding: 'utf8' });
    return { ok: r.status === 0, stderr: r.stderr };
  }

  it('accepts the signed tags, refuses a tampered re-push, an unsigned tag and another key', async () => {
    const ref = parseReference(`${reg.host}/builders:img-1`);
    const image = await pushRandomImage(client, ref, { layers: 1 });
    await client.putManifest({ ...ref, tag: 'img-latest' }, image.bytes, 'application/vnd.oci.image.manifest.v1+json');
    await client.putManifest({ ...ref, tag: 'img-unsigned' }, image.bytes, 'application/vnd.oci.image.manifest.v1+json');
    const store = join(work, 'store');
    const signed = await signPublished(pushed(['img-1', 'img-latest'], image.digest), [`${reg.host}/builders`], { key: key.fingerprint, store, env: key.env });
    expect(signed.fingerprint).toBe(key.fingerprint);
    expect(signed.signatures.map((s) => [s.reference, s.written])).toEqual([[`${reg.host}/builders:img-1`, true], [`${reg.host}/builders:img-latest`, true]]);
    const dir = join(store, `builders@sha256=${image.digest.slice(7)}`);
    expect(readdirSync(dir).sort()).toEqual(['signature-1', 'signature-2']);
    expect(signed.registriesD).toBe(`docker:\n  ${reg.host}/builders:\n    lookaside: file://${store}\n`);
    // gpg itself reads the payload back and vouches for the key.
    const verified = spawnSync('gpg', ['--batch', '--status-fd', '1', '--decrypt', join(dir, 'signature-1')], { env: key.env });
    expect(String(verified.stdout)).toContain(`VALIDSIG ${key.fingerprint}`);
    expect(readPayload(new Uint8Array(execFileSync('gpg', ['--batch', '--skip-verify', '--decrypt', join(dir, 'signature-1')], { env: key.env, stdio: ['pipe', 'pipe', 'ignore'] })))).toEqual({
      reference: `${reg.host}/builders:img-1`,
      digest: image.digest,
    });

    const registriesD = join(work, 'registries.d');
    mkdirSync(registriesD, { recursive: true });
    writeFileSync(join(registriesD, 'builder-images.yaml'), signed.registriesD);
    expect(skopeoCopy(`${reg.host}/builders:img-1`, registriesD)).toMatchObject({ ok: true });
    expect(skopeoCopy(`${reg.host}/builders:img-latest`, registriesD)).toMatchObject({ ok: true });

    // Signing again adds nothing: each reference is signed once per manifest.
    const again = await signPublished(pushed(['img-1'], image.digest), [`${reg.host}/builders`], { key: key.fingerprint, store, env: key.env });
    expect(again.signatures.map((s) => s.written)).toEqual([false]);
    expect(readdirSync(dir)).toHaveLength(2);

    // The same manifest under a tag nobody signed: the identity does not match.
    const unsigned = skopeoCopy(`${reg.host}/builders:img-unsigned`, registriesD);
    expect(unsigned.ok).toBe(false);
    expect(unsigned.stderr).toMatch(/not accepted|identity/i);

    // Another key's signature in the store is not the required key's.
    const intruderStore = join(work, 'intruder-store');
    const forged = await signPublished(pushed(['img-unsigned'], image.digest), [`${reg.host}/builders`], { key: other.fingerprint, store: intruderStore, env: other.env });
    const intruderD = join(work, 'registries-intruder.d');
    mkdirSync(intruderD, { recursive: true });
    writeFileSync(join(intruderD, 'x.yaml'), forged.registriesD);
    const wrongKey = skopeoCopy(`${reg.host}/builders:img-unsigned`, intruderD);
    expect(wrongKey.ok).toBe(false);
    expect(wrongKey.stderr).toMatch(/key|signature/i);

    // A tampered manifest re-pushed under the signed tag: its digest has no signature.
    const tampered = await pushRandomImage(client, ref, { layers: 1 });
    expect(tampered.digest).not.toBe(image.digest);
    const refused = skopeoCopy(`${reg.host}/builders:img-1`, registriesD);
    expect(refused.ok).toBe(false);
    expect(refused.stderr).toMatch(/signature/i);
    // Even with the old signatures copied to the new digest's directory, the payload names the old digest.
    cpSync(dir, join(store, `builders@sha256=${tampered.digest.slice(7)}`), { recursive: true });
    const replayed = skopeoCopy(`${reg.host}/builders:img-1`, registriesD);
    expect(replayed.ok).toBe(false);
    expect(replayed.stderr).toMatch(/digest/i);
  });
});
