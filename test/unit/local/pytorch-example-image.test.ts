// Docker cannot build on the development machines, so check examples/pytorch/Dockerfile
// statically: an official PyTorch CUDA runtime base, only existing files copied, and the Study's
// command finds train.py and the digits under the image's working directory.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../support/run-cli.js';

const DIR = join(REPO_ROOT, 'examples/pytorch');
const instructions = readFileSync(join(DIR, 'Dockerfile'), 'utf8')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const args = (keyword: string) =>
  instructions.filter((l) => l.toUpperCase().startsWith(`${keyword} `)).map((l) => l.split(/\s+/).slice(1));

describe('examples/pytorch/Dockerfile', () => {
  it('starts from an official PyTorch CUDA runtime image', () => {
    assert.deepEqual(args('FROM').length, 1);
    assert.match(args('FROM')[0]![0]!, /^pytorch\/pytorch:[\w.]+-cuda[\d.]+-cudnn\d+-runtime$/);
  });

  it("copies existing files to where the Study's command looks for them", () => {
    const workdir = args('WORKDIR').at(-1)?.[0] ?? '';
    assert.ok(workdir?.startsWith('/'), 'an absolute WORKDIR');
    const inImage = new Set<string>();
    for (const words of args('COPY')) {
      const dest = words.at(-1)!;
      for (const src of words.slice(0, -1)) {
        assert.ok(existsSync(join(DIR, src)), `COPY ${src}: not in examples/pytorch`);
        inImage.add(posix.join(workdir, dest, src));
      }
    }
    const study = parse(readFileSync(join(DIR, 'study.yaml'), 'utf8')) as {
      spec: { trialTemplate: { spec: { template: { spec: { containers: { command: string[] }[] } } } } };
    };
    const [python, script] = study.spec.trialTemplate.spec.template.spec.containers[0]!.command;
    assert.equal(python, 'python3');
    assert.ok(inImage.has(posix.join(workdir, script!)), `${script} is not copied into ${workdir}`);
    assert.ok(
      inImage.has(posix.join(workdir, 'examples/pytorch/mnist-digits.npz')),
      'the digits ship in the image',
    );
  });
});
