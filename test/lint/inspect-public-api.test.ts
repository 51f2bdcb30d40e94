/**
 * Issue 16: `cygnet inspect` "uses only the library's public API". Every import src/inspect makes from outside
 * src/inspect must be something src/index.ts (the package entry point) exports: a value import is the very same
 * object the entry point exports, a type import is named in an `export { type ... }` there, and a namespace import
 * (`import * as codec`) is a module the entry point exports as a namespace. A new import of an internal helper
 * fails here; export it from src/index.ts first (deliberately: it becomes public API).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const inspectDir = join(root, 'src/inspect');
const indexText = readFileSync(join(root, 'src/index.ts'), 'utf8');

interface ImportUse {
  file: string;
  from: string;
  namespace?: string;
  values: string[];
  types: string[];
}

/** The imports of `file` that leave src/inspect. */
function outsideImports(file: string): ImportUse[] {
  const text = readFileSync(join(inspectDir, file), 'utf8');
  const uses: ImportUse[] = [];
  for (const m of text.matchAll(/^import\s+(type\s+)?([\s\S]*?)\s+from\s+'([^']+)';/gm)) {
    const [, allTypes, clause = '', spec = ''] = m;
    if (spec.startsWith('./') || !spec.startsWith('.')) continue;
    const from = resolve(inspectDir, spec).replace(/\.js$/, '.ts');
    const ns = /^\*\s+as\s+(\w+)$/.exec(clause.trim());
    if (ns) {
      uses.push({ file, from, namespace: ns[1]!, values: [], types: [] });
      continue;
    }
    const names = clause.replace(/[{}]/g, '').split(',').map((x) => x.trim()).filter(Boolean);
    const types = names.filter((n) => allTypes || n.startsWith('type ')).map((n) => n.replace(/^type\s+/, ''));
    const values = allTypes ? [] : names.filter((n) => !n.startsWith('type '));
    uses.push({ file, from, values, types });
  }
  return uses;
}

const files = readdirSync(inspectDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'test-captures.ts');
const uses = files.flatMap(outsideImports);

describe('src/inspect uses only the public API (src/index.ts)', () => {
  it('finds the imports it judges', () => {
    expect(files).toContain('inspect.ts');
    expect(uses.some((u) => u.values.includes('decryptIkeMessage'))).toBe(true);
    expect(uses.some((u) => u.namespace === 'codec')).toBe(true);
  });

  it('every value it imports from elsewhere is the object src/index.ts exports under that name', async () => {
    const index = (await import(pathToFileURL(join(root, 'src/index.ts')).href)) as Record<string, unknown>;
    const problems: string[] = [];
    for (const u of uses) {
      if (u.values.length === 0) continue;
      const mod = (await import(pathToFileURL(u.from).href)) as Record<string, unknown>;
      for (const v of u.values) {
        const [name, alias] = v.split(/\s+as\s+/);
        if (!(name! in index)) problems.push(`${u.file}: ${alias ?? name} from ${u.from.slice(root.length + 1)} is not exported by src/index.ts`);
        else if (index[name!] !== mod[name!]) problems.push(`${u.file}: src/index.ts exports another ${name}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every type it imports is exported by src/index.ts, and every namespace it imports is one of its namespaces', () => {
    const problems: string[] = [];
    for (const u of uses) {
      for (const t of u.types) if (!new RegExp(`\\btype ${t}\\b`).test(indexText)) problems.push(`${u.file}: type ${t} is not exported by src/index.ts`);
      if (u.namespace) {
        const rel = `./${u.from.slice(join(root, 'src').length + 1).replace(/\.ts$/, '.js')}`;
        if (!indexText.includes(`export * as ${u.namespace} from '${rel}';`)) problems.push(`${u.file}: namespace ${u.namespace} (${rel}) is not exported as such by src/index.ts`);
      }
    }
    expect(problems).toEqual([]);
  });
});
