import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOutDir, clearOutDir, OUTPUT_MARKER, writeMarker } from '../../../../src/entry/cli/out-dir.ts';

describe('run --out: never destroy', () => {
  let dir: string;
  let input: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cte-out-'));
    input = join(dir, 'input.json.gz');
    await writeFile(input, 'x');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts an absent directory and an empty one', async () => {
    expect((await checkOutDir(join(dir, 'new'), [input], false)).ok).to.equal(true);
    await mkdir(join(dir, 'empty'));
    expect((await checkOutDir(join(dir, 'empty'), [input], false)).ok).to.equal(true);
  });

  it('refuses a directory holding a file the user had in it (keepdir), even with --force', async () => {
    await mkdir(join(dir, 'keepdir'));
    await writeFile(join(dir, 'keepdir', 'notes.txt'), 'mine');
    for (const force of [false, true]) {
      const check = await checkOutDir(join(dir, 'keepdir'), [input], force);
      expect(check.ok).to.equal(false);
      if (!check.ok) expect(check.error).to.include('not an earlier output of run');
    }
    expect(await readdir(join(dir, 'keepdir'))).to.deep.equal(['notes.txt']);
  });

  it('refuses --out sub/.. , --out . and --out .. when they hold the input', async () => {
    await mkdir(join(dir, 'sub'));
    for (const out of [join(dir, 'sub', '..'), dir, join(dir, 'sub', 'x', '..', '..')]) {
      const check = await checkOutDir(out, [input], true);
      expect(check.ok, out).to.equal(false);
      if (!check.ok) expect(check.error).to.include('holds the input');
    }
    const parent = await checkOutDir(join(dir, 'sub', '..', '..'), [input], true);
    expect(parent.ok).to.equal(false);
  });

  it('refuses an earlier output of run that an input lies inside, even with --force', async () => {
    const out = join(dir, 'out');
    await writeMarker(out, []);
    await writeFile(join(out, 'moved-here.json'), '{}');
    const check = await checkOutDir(out, [join(out, 'moved-here.json')], true);
    expect(check.ok).to.equal(false);
    if (!check.ok) expect(check.error).to.include('holds the input');
  });

  it('refuses a symbolic link as --out, and an input reached through a symlink into --out', async () => {
    const out = join(dir, 'out');
    await writeMarker(out, []);
    await symlink(out, join(dir, 'link'));
    const viaLink = await checkOutDir(join(dir, 'link'), [input], true);
    expect(viaLink.ok).to.equal(false);
    if (!viaLink.ok) expect(viaLink.error).to.include('symbolic link');
    await writeFile(join(out, 'e.json'), '{}');
    await symlink(join(out, 'e.json'), join(dir, 'e-link.json'));
    const check = await checkOutDir(out, [join(dir, 'e-link.json')], true);
    expect(check.ok).to.equal(false);
  });

  it('replaces exactly what an earlier run wrote, and refuses added files unless --force', async () => {
    const out = join(dir, 'out');
    await mkdir(join(out, 'enriched', 'account=1'), { recursive: true });
    await writeFile(join(out, 'enriched', 'account=1', 'a.json'), '{}');
    await writeMarker(out, ['enriched/account=1/a.json']);
    const clean = await checkOutDir(out, [input], false);
    expect(clean.ok).to.equal(true);
    await writeFile(join(out, 'added.txt'), 'mine');
    const refused = await checkOutDir(out, [input], false);
    expect(refused.ok).to.equal(false);
    if (!refused.ok) expect(refused.error).to.include('--force');
    const forced = await checkOutDir(out, [input], true);
    expect(forced.ok).to.equal(true);
    if (!forced.ok) return;
    await clearOutDir(forced);
    expect(await readdir(out)).to.deep.equal([]);
  });

  it('never deletes the directory itself nor anything outside it', async () => {
    const out = join(dir, 'out');
    await writeMarker(out, ['../input.json.gz']);
    const check = await checkOutDir(out, [], false);
    expect(check.ok).to.equal(true);
    if (!check.ok) return;
    await clearOutDir(check);
    expect((await readdir(dir)).sort()).to.deep.equal(['input.json.gz', 'out']);
    expect(await readdir(out)).to.not.include(OUTPUT_MARKER);
  });
});
