import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { registerSecret } from '../../src/util/redact.js';
import { appendStepSummary, STEP_SUMMARY_LIMIT } from '../../src/util/step-summary.js';

describe('appendStepSummary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bi-step-summary-'));
  const file = join(dir, 'summary.md');
  afterEach(() => {
    rmSync(file, { force: true });
  });

  it('does nothing outside GitHub Actions', async () => {
    expect(await appendStepSummary('# x', {})).toBeUndefined();
  });

  it('appends (steps share the file), redacted', async () => {
    registerSecret('s3cr3t-value');
    await appendStepSummary('### one', { GITHUB_STEP_SUMMARY: file });
    await appendStepSummary('### two: token s3cr3t-value\n', { GITHUB_STEP_SUMMARY: file });
    expect(readFileSync(file, 'utf8')).toBe('### one\n\n### two: token ***\n\n');
  });

  it('stays under GitHub\'s 1 MiB limit and says it cut', async () => {
    await appendStepSummary('| row |\n'.repeat(200_000), { GITHUB_STEP_SUMMARY: file });
    const text = readFileSync(file, 'utf8');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT + 2);
    expect(text).toMatch(/_\(cut here: the job summary is limited to 1 MiB; the step log has everything\)_\n\n$/);
  });
});
