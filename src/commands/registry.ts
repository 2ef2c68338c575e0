import type { Command } from 'commander';
import type { Streams } from './context.js';

/** One CLI command: adds itself (name, one-line description, flags, action) to the program. */
export type RegisterCommand = (program: Command, streams: Streams) => void;

import { register as lint } from './lint.js';
import { register as index } from './index-cmd.js';
import { register as select } from './select.js';
import { register as check } from './check.js';
import { register as tag } from './tag.js';
import { register as build } from './build.js';
import { register as push } from './push.js';
import { register as plan } from './plan.js';
import { register as bump } from './bump.js';
import { register as verify } from './verify.js';
import { register as sbom } from './sbom.js';

/** Every command, in the order `--help` lists them (the order of the pipeline). */
export const COMMANDS: RegisterCommand[] = [lint, index, select, check, verify, tag, build, push, plan, bump, sbom];
