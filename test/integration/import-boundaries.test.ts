/**
 * Proves the layering the code relies on, by reading every import statement:
 * the console (components/, app/) imports nothing from server/ or agent/, the
 * server imports nothing from agent/, and core/ imports nothing from the
 * programs or from Node (`node:*`), so the shared protocol stays runnable in the
 * browser. A new import across a boundary makes this test name the file and line.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(import.meta.dirname, '../..');

/** Every .ts and .tsx file under `directory` (relative to the root), tests included. */
async function sourceFiles(directory: string): Promise<string[]> {
  const entries = await readdir(path.join(root, directory), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));
}

/** The module each import, export-from or dynamic import of `text` names, with its line. */
export function importsOf(text: string): { specifier: string; line: number }[] {
  const found: { specifier: string; line: number }[] = [];
  const pattern = /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const match of text.matchAll(pattern)) {
    found.push({ specifier: (match[1] ?? match[2] ?? match[3])!, line: text.slice(0, match.index + 1).split('\n').length });
  }
  return found;
}

/** The top-level directory a relative specifier of `file` lands in, or null for a package. */
function targetDirectory(file: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  return path.relative(root, path.resolve(root, path.dirname(file), specifier)).split(path.sep)[0]!;
}

/** `file:line → specifier` for each import of the files under `directories` that breaks `forbidden`. */
async function violations(directories: string[], forbidden: (target: string | null, specifier: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  for (const directory of directories) {
    for (const file of await sourceFiles(directory)) {
      const text = await readFile(path.join(root, file), 'utf8');
      for (const { specifier, line } of importsOf(text)) {
        if (forbidden(targetDirectory(file, specifier), specifier)) found.push(`${file}:${line} → ${specifier}`);
      }
    }
  }
  return found;
}

test('the scanner sees static, re-exported, side-effect and dynamic imports', () => {
  const text = "import a from '../server/x';\nimport type { B } from \"../agent/y\";\nexport { c } from './z';\nimport './style.css';\nconst m = await import('mermaid');";
  assert.deepEqual(
    importsOf(text).map((found) => `${found.line}:${found.specifier}`),
    ['1:../server/x', '2:../agent/y', '3:./z', '4:./style.css', '5:mermaid'],
  );
});

test('the console imports nothing from server/ or agent/', async () => {
  assert.deepEqual(await violations(['components', 'app'], (target) => target === 'server' || target === 'agent'), []);
});

test('the server imports nothing from agent/', async () => {
  assert.deepEqual(await violations(['server'], (target) => target === 'agent'), []);
});

test('core imports nothing from the programs, and its modules nothing from Node', async () => {
  const programs = new Set(['server', 'agent', 'components', 'app', 'sim', 'generated']);
  const found = await violations(['core'], (target, specifier) => (target !== null && programs.has(target)) || specifier.startsWith('node:'));
  // Core's own tests may use Node's test runner, assertions and hash functions; its modules may not.
  assert.deepEqual(found.filter((entry) => !/\.test\.ts:/.test(entry)), []);
});
