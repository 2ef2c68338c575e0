import { execFileSync } from 'node:child_process';

/** Build dist/ once so tests that run the real CLI binary see the current sources. */
export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
