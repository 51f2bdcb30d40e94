/**
 * The page's files: dist/src/console/static/ as `npm run build` leaves it (web/build.mjs bundles web/ with
 * esbuild), or, when running from source (tsx, the tests), the same bundle built in memory once.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type StaticFiles = ReadonlyMap<string, { readonly body: Buffer; readonly type: string }>;

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

let cached: Promise<StaticFiles> | undefined;

export function loadStatic(): Promise<StaticFiles> {
  cached ??= load();
  return cached;
}

async function load(): Promise<StaticFiles> {
  const dir = fileURLToPath(new URL('./static/', import.meta.url));
  const files = new Map<string, { body: Buffer; type: string }>();
  if (existsSync(`${dir}index.html`)) {
    for (const [name, type] of Object.entries(TYPES)) files.set(name, { body: await readFile(`${dir}${name}`), type });
    return files;
  }
  const builder = fileURLToPath(new URL('../../web/build.mjs', import.meta.url));
  if (!existsSync(builder)) throw new Error(`the console's page is missing: neither ${dir} nor ${builder} exists (run npm run build)`);
  const mod = (await import(pathToFileURL(builder).href)) as { buildWeb(): Promise<Record<string, Uint8Array>> };
  const built = await mod.buildWeb();
  for (const [name, type] of Object.entries(TYPES)) {
    const body = built[name];
    if (!body) throw new Error(`web/build.mjs produced no ${name}`);
    files.set(name, { body: Buffer.from(body), type });
  }
  return files;
}
