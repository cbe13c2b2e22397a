// Docker cannot build on the development machines, so check the Dockerfile statically: every
// path it copies from the build context (the repository root) exists, and its ENTRYPOINT is the
// package's bin so one Study manifest works in the cluster and locally.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, TRAINER_DIR } from './helpers.js';

const dockerfile = readFileSync(join(TRAINER_DIR, 'Dockerfile'), 'utf8');
// Join continuation lines, drop comments.
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

describe('trainer Dockerfile', () => {
  it('copies only paths that exist in the build context', () => {
    const copies = instructions.filter((l) => /^(COPY|ADD)\s/i.test(l));
    assert.ok(copies.length > 0);
    let checked = 0;
    for (const line of copies) {
      const words = line.split(/\s+/).slice(1);
      if (words.some((w) => w.startsWith('--from='))) continue; // from another stage or image
      const paths = words.filter((w) => !w.startsWith('--'));
      const sources = paths.slice(0, -1);
      assert.ok(sources.length > 0, `no source in: ${line}`);
      for (const src of sources) {
        assert.ok(
          existsSync(join(REPO_ROOT, src)),
          `Dockerfile copies ${src}, which is not in the repository`,
        );
        checked++;
      }
    }
    assert.ok(checked >= 5, `only ${checked} context paths checked`);
  });

  it('sends those paths to the daemon (the .dockerignore allow-list covers them)', () => {
    const ignore = readFileSync(join(TRAINER_DIR, 'Dockerfile.dockerignore'), 'utf8');
    const allowed = ignore
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1));
    for (const line of instructions.filter((l) => /^COPY\s/i.test(l) && !/--from=/.test(l))) {
      const sources = line
        .split(/\s+/)
        .slice(1, -1)
        .filter((w) => !w.startsWith('--'));
      for (const src of sources) {
        assert.ok(
          allowed.some((a) => src === a || src.startsWith(`${a}/`)),
          `${src} is excluded by Dockerfile.dockerignore`,
        );
      }
    }
  });

  it('has the package bin as ENTRYPOINT and links it onto PATH', () => {
    const pkg = JSON.parse(readFileSync(join(TRAINER_DIR, 'package.json'), 'utf8')) as {
      name: string;
      bin: Record<string, string>;
    };
    const [binName, binPath] = Object.entries(pkg.bin)[0] ?? [];
    assert.ok(binName !== undefined && binPath !== undefined);
    const entrypoints = instructions.filter((l) => /^ENTRYPOINT\s/i.test(l));
    assert.equal(entrypoints.length, 1, 'exactly one ENTRYPOINT');
    const json = (entrypoints[0] as string).replace(/^ENTRYPOINT\s+/i, '');
    assert.deepEqual(JSON.parse(json), [binName], 'ENTRYPOINT must be the exec form of the package bin');
    const link = instructions.find((l) => l.includes(`/usr/local/bin/${binName}`));
    assert.ok(
      link?.includes(binPath.replace(/^\.\//, '')),
      `the image must put ${binPath} on PATH as ${binName}`,
    );
    assert.ok(existsSync(join(TRAINER_DIR, binPath)));
  });

  it('runs as a non-root user and installs tfjs-node-gpu only in the image', () => {
    const users = instructions.filter((l) => /^USER\s/i.test(l));
    assert.ok(users.length > 0 && !/^USER\s+(root|0)(:|\s|$)/i.test(users.at(-1) as string));
    assert.match(dockerfile, /@tensorflow\/tfjs-node-gpu@4\.22\.0/);
    const pkg = readFileSync(join(TRAINER_DIR, 'package.json'), 'utf8');
    assert.doesNotMatch(
      pkg,
      /tfjs-node/,
      'tfjs-node(-gpu) download binaries at install: never a package dependency',
    );
  });
});
