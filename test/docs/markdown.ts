// Reads the documentation the way the snippet test checks it: fenced blocks (with the heading above them
// and the include marker right before them), relative links, and `// #region` parts of source files.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface FencedBlock {
  /** The markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  content: string;
  /** The closest heading above the block, without its `#`s. */
  heading: string;
  /** `path#name` from `<!-- include: path#name -->` on the line right before the fence. */
  include?: { path: string; region: string };
}

const FENCE = /^(\s*)(```+)\s*([\w-]*)\s*$/;
const INCLUDE = /^<!-- include: (\S+?)#([\w-]+) -->$/;
const HEADING = /^#{1,6}\s+(.*?)\s*$/;

export function fencedBlocks(file: string, text: string): FencedBlock[] {
  const lines = text.split('\n');
  const blocks: FencedBlock[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const open = FENCE.exec(line);
    if (open === null) {
      const h = HEADING.exec(line);
      if (h) heading = h[1]!;
      continue;
    }
    const [, indent, ticks, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = FENCE.exec(lines[j]!);
      if (close && close[2] === ticks && close[3] === '') break;
      body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!);
    }
    if (j === lines.length) throw new Error(`${file}:${i + 1}: a code block is never closed`);
    const marker = INCLUDE.exec((lines[i - 1] ?? '').trim());
    blocks.push({
      file,
      line: i + 1,
      lang: lang!,
      content: body.join('\n'),
      heading,
      ...(marker ? { include: { path: marker[1]!, region: marker[2]! } } : {}),
    });
    i = j;
  }
  return blocks;
}

/** The text outside fenced blocks and inline code, where links are read. */
function prose(text: string): string {
  return [...linesOutsideFences(text)].map((line) => line.replace(/`[^`]*`/g, '')).join('\n');
}

/** The lines of `text` outside fenced blocks (fence lines themselves excluded). */
function* linesOutsideFences(text: string): Generator<string> {
  let ticks: string | undefined;
  for (const line of text.split('\n')) {
    const fence = FENCE.exec(line);
    if (fence) {
      if (ticks === undefined) ticks = fence[2];
      else if (fence[2] === ticks && fence[3] === '') ticks = undefined;
      continue;
    }
    if (ticks === undefined) yield line;
  }
}

/** Link targets that are not absolute URLs, split into a path (empty: this page) and an anchor. */
export function relativeLinks(text: string): Array<{ path: string; anchor: string }> {
  const targets: Array<{ path: string; anchor: string }> = [];
  for (const match of prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    const [path = '', anchor = ''] = target.split('#');
    targets.push({ path: decodeURI(path), anchor });
  }
  return targets;
}

/**
 * The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens. Only
 * lines outside fenced blocks are headings (a `# comment` in a sh block is none); a heading's inline
 * code counts as its text.
 */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of linesOutsideFences(text)) {
    const heading = HEADING.exec(line);
    if (heading) anchors.add(heading[1]!.replace(/`/g, '').toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-'));
  }
  return anchors;
}

/** The lines between `// #region name` and `// #endregion name`, common indentation removed. */
export function region(source: string, name: string): string | undefined {
  const lines = source.split('\n');
  const isMarker = (line: string, word: string) => new RegExp(`^\\s*// #${word} ${name}\\s*$`).test(line);
  const start = lines.findIndex((line) => isMarker(line, 'region'));
  if (start < 0 || lines.findIndex((line, i) => i > start && isMarker(line, 'region')) >= 0) return undefined;
  const end = lines.findIndex((line, i) => i > start && isMarker(line, 'endregion'));
  if (end < 0) return undefined;
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length));
  return body.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
}

/** Every file under `dir` (relative to `root`) whose name passes `keep`, skipping `skip` folders. */
export function filesUnder(root: string, dir: string, keep: (name: string) => boolean, skip: string[] = []): string[] {
  const found: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!skip.includes(relative(root, path)) && entry.name !== 'node_modules') walk(path);
      } else if (keep(entry.name)) found.push(relative(root, path));
    }
  };
  walk(join(root, dir));
  return found.sort();
}

export function read(root: string, path: string): string {
  return readFileSync(join(root, path), 'utf8');
}
