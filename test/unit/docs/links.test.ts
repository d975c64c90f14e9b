import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

/** README.md and every docs/*.md: the pages a reader follows links between. */
function pages(): string[] {
  const docs = existsSync(join(ROOT, 'docs'))
    ? readdirSync(join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => join(ROOT, 'docs', f))
    : [];
  return [join(ROOT, 'README.md'), ...docs.sort()];
}

/** The text outside fenced code blocks and inline code (links there are examples, not links). */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered -1, -2, … */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const match of markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = match[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

function relativeLinks(markdown: string): string[] {
  const links: string[] = [];
  for (const match of prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    links.push(target);
  }
  return links;
}

describe('documentation links', () => {
  it('finds the README and the docs pages', () => {
    const names = pages().map((p) => relative(ROOT, p));
    expect(names).to.include.members([
      'README.md',
      'docs/output.md',
      'docs/ip-intelligence.md',
      'docs/rules.md',
      'docs/deployment.md',
      'docs/operations.md',
      'docs/benchmarks.md',
    ]);
  });

  it('resolves every relative link of README.md and docs/*.md to a file, and every #anchor to a heading', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of pages()) {
      const text = readFileSync(page, 'utf8');
      for (const link of relativeLinks(text)) {
        checked++;
        const [path, anchor] = link.split('#') as [string, string | undefined];
        const target = path === '' ? page : resolve(dirname(page), decodeURIComponent(path));
        const where = `${relative(ROOT, page)} → ${link}`;
        if (!target.startsWith(ROOT + '/') && target !== ROOT) broken.push(`${where} (outside the repository)`);
        else if (!existsSync(target)) broken.push(`${where} (no such file)`);
        else if (anchor !== undefined && anchor !== '') {
          if (statSync(target).isDirectory() || !target.endsWith('.md'))
            broken.push(`${where} (an anchor into a file that is not Markdown)`);
          else if (!anchorsOf(readFileSync(target, 'utf8')).has(anchor)) broken.push(`${where} (no heading with that anchor)`);
        }
      }
    }
    expect(checked).to.be.greaterThan(20);
    expect(broken).to.deep.equal([]);
  });

  it('links every docs page from the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const linked = new Set(relativeLinks(readme).map((l) => l.split('#')[0]));
    const unlinked = pages()
      .slice(1)
      .map((p) => relative(ROOT, p))
      .filter((p) => !linked.has(p));
    expect(unlinked).to.deep.equal([]);
  });

  it('numbers repeated headings as GitHub does', () => {
    expect([...anchorsOf('## Configuration\n### `run` (command line)\n#### Configuration\n```\n# not a heading\n```\n')]).to.deep.equal([
      'configuration',
      'run-command-line',
      'configuration-1',
    ]);
  });
});
