// Builds the web pages when web/dist is missing or older than their sources, so `npm start` and the
// browser tests always serve the pages of this checkout. Without Vite (an install without dev
// dependencies) or when the build fails, it says so and lets the server start with the API alone;
// with --strict (the browser tests) a failed build is a failure.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const webDir = import.meta.dirname;
const isStrict = process.argv.includes('--strict');
const builtIndex = join(webDir, 'dist', 'index.html');
const sources = ['src', 'public', 'index.html', 'vite.config.ts', join('..', 'package-lock.json')];

function newestChange(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestChange(join(path, entry)));
  return newest;
}

const builtAt = existsSync(builtIndex) ? statSync(builtIndex).mtimeMs : 0;
const changedAt = Math.max(...sources.map((source) => newestChange(join(webDir, source))));

if (builtAt >= changedAt) {
  console.log('web pages: up to date (web/dist)');
} else {
  let vite: typeof import('vite') | undefined;
  try {
    vite = await import('vite');
  } catch {
    console.warn('web pages: not built, Vite is not installed (install dev dependencies); the API starts alone');
    if (isStrict) process.exitCode = 1;
  }
  if (vite) {
    console.log(builtAt ? 'web pages: sources changed, building…' : 'web pages: building…');
    try {
      await vite.build({ configFile: join(webDir, 'vite.config.ts'), logLevel: 'warn' });
      console.log('web pages: built into web/dist');
    } catch (error) {
      // `npm start` keeps the API up without pages; the browser tests (--strict) stop here.
      console.error(`web pages: the build failed: ${error instanceof Error ? error.message : error}`);
      if (isStrict) process.exitCode = 1;
    }
  }
}
