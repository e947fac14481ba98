import { existsSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fencedBlocks, filesUnder, headingAnchors, read, region, relativeLinks, type FencedBlock } from './markdown.js';

// Every code block in README.md and docs/ is either run by a test or is plain data: a ts/js block is a
// copy of a `// #region` of a file that a test runs (so the docs cannot drift from working code), a json
// block parses, sh and text blocks are commands and output. The generated API reference is not read.
const root = fileURLToPath(new URL('../..', import.meta.url));
const pages = ['README.md', 'CONTRIBUTING.md', ...filesUnder(root, 'docs', (name) => name.endsWith('.md'), ['docs/api'])];
const blocks = pages.flatMap((page) => fencedBlocks(page, read(root, page)));
const code = new Set(['ts', 'js']);
const allowed = new Set([...code, 'json', 'sh', 'text']);

/** Blocks not yet converted to includes (the issue stays open for them); keep this list short. */
interface Pending {
  file: string;
  heading: string;
}
const pending = JSON.parse(read(root, 'test/docs/pending.json')) as Pending[];
const isPending = (block: FencedBlock) => pending.some((p) => p.file === block.file && p.heading === block.heading);

// What the tests mention: an included file counts as run when a test names its path (extension aside:
// TypeScript imports name `.js`), or when it is an example that test/examples runs.
const testSources = filesUnder(root, 'test', (name) => /\.(ts|mjs|js|json|sh)$/.test(name))
  .filter((file) => file !== 'test/docs/snippets.test.ts')
  .map((file) => read(root, file))
  .join('\n');
const stem = (path: string) => path.replace(/\.(ts|mts|js|mjs|cjs)$/, '');

const where = (block: FencedBlock) => `${block.file}:${block.line}`;

describe('documentation code blocks', () => {
  it('finds the pages and their blocks', () => {
    expect(pages).toContain('README.md');
    expect(pages.length).toBeGreaterThan(10);
    expect(blocks.filter((b) => code.has(b.lang)).length).toBeGreaterThan(10);
  });

  it.each(blocks.map((b) => [where(b), b] as const))('%s uses a known language', (_, block) => {
    expect(allowed.has(block.lang), `language "${block.lang}" (use one of ${[...allowed].join(', ')})`).toBe(true);
  });

  const codeBlocks = blocks.filter((b) => code.has(b.lang));
  it.each(codeBlocks.map((b) => [where(b), b] as const))('%s is included from a file a test runs', (_, block) => {
    if (block.include === undefined) {
      expect(isPending(block), 'no <!-- include: path#name --> line right before the block').toBe(true);
      return;
    }
    const { path, region: name } = block.include;
    expect(existsSync(join(root, path)), `${path} exists`).toBe(true);
    const expected = region(read(root, path), name);
    expect(expected, `${path} has exactly one region "${name}" with its end marker`).toBeDefined();
    expect(block.content).toBe(expected);
    // A fixture under test/ is named by its tests relative to their own folder (fixture('options-env.mjs')).
    const named = path.startsWith('test/') ? stem(path.slice(path.lastIndexOf('/') + 1)) : stem(path);
    const isTest = /^test\/.*\.test\.ts$/.test(path);
    expect(isTest || testSources.includes(named), `a file under test/ runs ${path}`).toBe(true);
  });

  const jsonBlocks = blocks.filter((b) => b.lang === 'json');
  it.each(jsonBlocks.map((b) => [where(b), b] as const))('%s parses as JSON', (_, block) => {
    expect(() => JSON.parse(block.content)).not.toThrow();
  });

  it('keeps the list of unconverted blocks short and current', () => {
    expect(pending.length).toBeLessThanOrEqual(5);
    for (const entry of pending) {
      const stillThere = codeBlocks.some((b) => b.include === undefined && b.file === entry.file && b.heading === entry.heading);
      expect(stillThere, `pending.json lists ${entry.file} "${entry.heading}", which has no unconverted block`).toBe(true);
    }
  });
});

// Pages other helpers write on their own branches this round: linked from here, checked once merged.
// Remove each name once its page is in the tree.
const arriving: string[] = [];

describe('documentation links', () => {
  it.each(pages)('%s links only to files and headings that exist', (page) => {
    const broken: string[] = [];
    for (const { path, anchor } of relativeLinks(read(root, page))) {
      const target = path === '' ? page : normalize(join(dirname(page), path));
      // The API reference is generated (npm run docs:api), not checked in.
      if (/^docs\/api(\/|$)/.test(target) || arriving.includes(target)) continue;
      if (!existsSync(join(root, target))) broken.push(`${path}#${anchor}`);
      else if (anchor !== '' && target.endsWith('.md') && !headingAnchors(read(root, target)).has(anchor)) broken.push(`${path}#${anchor}`);
    }
    expect(broken).toEqual([]);
  });

  it('reads anchors from headings only, never from a # line inside a fenced block', () => {
    const page = ['# Page', '', '## Shutting down: `close()`', '', '```sh', '# not a heading', '```', ''].join('\n');
    expect([...headingAnchors(page)].sort()).toEqual(['page', 'shutting-down-close']);
  });

  it('docs/README.md lists every page of docs/', () => {
    const index = new Set(relativeLinks(read(root, 'docs/README.md')).map((link) => normalize(join('docs', link.path))));
    const unlisted = pages.filter((p) => p.startsWith('docs/') && p !== 'docs/README.md' && !p.startsWith('docs/api/'));
    expect(unlisted.filter((p) => !index.has(p))).toEqual([]);
  });
});
