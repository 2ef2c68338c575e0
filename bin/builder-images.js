#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/ by `npm ci` (prepare) or `npm run build` (scripts/build.mjs).
import { main } from '../dist/cli.js';

// A reader that stops early (`| head`) is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
const code = await main(process.argv);
// Interrupted (128 + signal number): what the run created is removed; work that was cut short may still hold
// sockets open, so leave now instead of waiting for them.
if (code > 128) process.exit(code);
process.exitCode = code;
