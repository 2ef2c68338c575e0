#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/ by `npm ci` (prepare) or `npm run build` (scripts/build.mjs).
import { existsSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

const bundle = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(bundle)) {
  // A fresh clone: nothing is installed or built yet. Say what to run instead of a module-not-found stack.
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`builder-images: the CLI is not built in ${root} (dist/cli.js is missing): run \`npm ci\` there (it installs and builds), then run this again\n`);
  process.exit(2);
}
const { main } = await import(bundle.href);

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
