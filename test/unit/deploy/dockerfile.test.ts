// Docker cannot build here, so the operator image's Dockerfile is checked statically: what it
// copies exists, the final stage runs as non-root, and its entrypoint is the build output of
// src/main.ts.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../support/helm.js';

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions (comments dropped, continuations joined). */
function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    assert.ok(m, `unparseable Dockerfile line: ${line}`);
    const op = (m[1] as string).toUpperCase();
    const args = m[2] as string;
    if (op === 'FROM') {
      const [from, as, name] = args.split(/\s+/);
      stages.push({
        from: from as string,
        ...(as?.toUpperCase() === 'AS' && name ? { name } : {}),
        instructions: [],
      });
    } else {
      const stage = stages.at(-1);
      assert.ok(stage, `${op} before FROM`);
      stage.instructions.push({ op, args });
    }
  }
  return stages;
}

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const final = stages.at(-1) as Stage;

describe('operator Dockerfile', () => {
  it('is multi-stage: a node:20 build stage and a distroless or slim Node 20 runtime', () => {
    assert.ok(stages.length >= 2);
    assert.match(stages[0]?.from ?? '', /^node:20(-slim)?$/);
    assert.match(final.from, /^(gcr\.io\/distroless\/nodejs20-debian12:nonroot|node:20-slim)$/);
  });

  it('copies only files that exist in the build context and are not .dockerignored', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const stage of stages) {
      for (const ins of stage.instructions.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
        const parts = ins.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        for (const src of parts.slice(0, -1)) {
          assert.ok(existsSync(join(repoRoot, src)), `COPY source ${src} does not exist`);
          assert.ok(!ignored.includes(src.replace(/\/$/, '')), `COPY source ${src} is in .dockerignore`);
        }
      }
    }
  });

  it('copies from stages that exist', () => {
    const names = stages.map((s) => s.name).filter(Boolean);
    for (const ins of final.instructions.filter((i) => i.op === 'COPY' && i.args.startsWith('--from'))) {
      const from = /^--from=(\S+)/.exec(ins.args)?.[1];
      assert.ok(from && names.includes(from), `COPY --from=${from} names no stage`);
    }
  });

  it('builds with npm ci, npm run build and prunes dev dependencies', () => {
    const runs =
      stages[0]?.instructions
        .filter((i) => i.op === 'RUN')
        .map((i) => i.args)
        .join(' && ') ?? '';
    assert.match(runs, /npm ci/);
    assert.match(runs, /npm run build/);
    assert.match(runs, /npm prune --omit=dev/);
  });

  it('runs the final stage as a numeric non-root user', () => {
    const user = final.instructions.filter((i) => i.op === 'USER').at(-1)?.args;
    assert.ok(user, 'the final stage sets USER');
    const uid = Number(user.split(':')[0]);
    assert.ok(Number.isInteger(uid) && uid > 0, `USER ${user} is numeric and not root`);
  });

  it('enters through dist/main.js, the build output of src/main.ts, with package.json beside it', () => {
    const entry = final.instructions.filter((i) => i.op === 'ENTRYPOINT').at(-1)?.args;
    assert.ok(entry, 'the final stage sets ENTRYPOINT');
    const argv = JSON.parse(entry) as string[];
    assert.match(argv[0] ?? '', /(^|\/)node$/);
    assert.equal(argv[1], 'dist/main.js');
    // tsconfig.build.json maps src/ to dist/, so src/main.ts compiles to dist/main.js.
    const build = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.build.json'), 'utf8')) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    assert.equal(build.compilerOptions.rootDir, 'src');
    assert.equal(build.compilerOptions.outDir, 'dist');
    assert.ok(existsSync(join(repoRoot, 'src', 'main.ts')), 'src/main.ts exists');
    const copied = final.instructions.filter((i) => i.op === 'COPY').map((i) => i.args);
    for (const need of ['package.json', 'node_modules', 'dist']) {
      assert.ok(
        copied.some((c) => c.includes(`/app/${need}`)),
        `the final stage copies ${need}`,
      );
    }
    const workdir = final.instructions.filter((i) => i.op === 'WORKDIR').at(-1)?.args;
    assert.equal(workdir, '/app', 'dist/main.js resolves against WORKDIR /app');
  });
});
