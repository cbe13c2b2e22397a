import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { placeholdersIn, substitute, type PlaceholderValues } from '../../../src/api/placeholders.js';
import { Rng } from '../../../src/engine/rng.js';

const values: PlaceholderValues = {
  params: { lr: '0.01', a: 'A' },
  trial: { name: 't-3', index: 3 },
  study: { name: 's' },
};

// The regex the scanner replaced, kept here as the reference for what placeholders mean.
const REFERENCE = /\$(\$?)\{([^}]*)\}/g;
const referenceIn = (text: string) =>
  [...text.matchAll(REFERENCE)].filter((m) => m[1] === '').map((m) => m[2] ?? '');
const referenceSubstitute = (text: string, resolve: (expr: string) => string) =>
  text.replace(REFERENCE, (whole, escape: string, expr: string) => (escape ? whole.slice(1) : resolve(expr)));

describe('placeholders', () => {
  it('substitutes, escapes with $${ and leaves unclosed ones literal', () => {
    assert.equal(
      substitute('--lr=${params.lr} ${trial.name}/${trial.index} ${study.name} $${params.lr} ${', values),
      '--lr=0.01 t-3/3 s ${params.lr} ${',
    );
    assert.equal(substitute('$$${params.a}$', values), '$${params.a}$');
    assert.deepEqual(placeholdersIn('a ${x} $${y} ${z'), ['x']);
    assert.deepEqual(placeholdersIn('${a${b}}'), ['a${b']);
  });

  it('reads 40 KB of ${ as literal text, and other adversarial runs correctly', () => {
    const run = '${'.repeat(20_000);
    assert.deepEqual(placeholdersIn(run), []);
    assert.equal(substitute(run, values), run);
    const dollars = '$'.repeat(40_000);
    assert.equal(substitute(`${dollars}{params.a}`, values), `${'$'.repeat(39_998)}\${params.a}`);
    const many = '${params.a}'.repeat(4000);
    assert.equal(substitute(many, values), 'A'.repeat(4000));
    assert.deepEqual(placeholdersIn(`${run}}`), [`${run.slice(2)}`]);
  });

  it('agrees with the regex it replaced on random strings of $ { } and letters', () => {
    const rng = new Rng(1, 'placeholders', 0);
    const alphabet = ['$', '{', '}', 'a', 'params.a', '${params.a}'];
    const outcome = (f: () => string | undefined) => {
      try {
        return f();
      } catch {
        return 'throws';
      }
    };
    const resolveA = (expr: string) => {
      if (expr === 'params.a') return 'A';
      throw new Error(expr);
    };
    for (let n = 0; n < 3000; n++) {
      const text = Array.from({ length: rng.int(16) }, () => alphabet[rng.int(alphabet.length)]).join('');
      assert.deepEqual(placeholdersIn(text), referenceIn(text), text);
      assert.equal(
        outcome(() => substitute(text, values)),
        outcome(() => referenceSubstitute(text, resolveA)),
        text,
      );
    }
  });
});
