#!/usr/bin/env node
/**
 * Bundles the console's page (web/src/main.ts, plain TypeScript) with esbuild into one script beside index.html
 * and app.css: `node web/build.mjs` writes dist/src/console/static/ (run by `npm run build`, shipped in the
 * package's dist/src); src/console/static.ts imports buildWeb() to build the same in memory when the console
 * runs from source. Nothing is fetched from a CDN: the page works offline.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export async function buildWeb() {
  const esbuild = await import('esbuild');
  const r = await esbuild.build({
    entryPoints: [join(here, 'src/main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = r.outputFiles[0];
  if (!js) throw new Error('esbuild produced no output');
  return {
    'index.html': await readFile(join(here, 'index.html')),
    'app.css': await readFile(join(here, 'app.css')),
    'app.js': js.contents,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = join(here, '..', 'dist', 'src', 'console', 'static');
  await mkdir(out, { recursive: true });
  const files = await buildWeb();
  for (const [name, body] of Object.entries(files)) await writeFile(join(out, name), body);
  console.log(`web/build.mjs: ${Object.keys(files).join(', ')} -> ${out} (app.js ${files['app.js'].length} bytes)`);
}
