/** SPDX 2.3's own JSON schema (test/fixtures/spdx), compiled with ajv: a validator that names every error. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';

const schema = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/spdx/spdx-schema-2.3.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

/** The schema's complaints about a document, one line each; empty when it is valid. */
export function spdxSchemaErrors(document: unknown): string[] {
  return validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}
