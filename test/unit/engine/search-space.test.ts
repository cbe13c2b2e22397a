import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParameterSpec } from '../../../src/api/parameter.js';
import { Rng } from '../../../src/engine/rng.js';
import { SearchSpace } from '../../../src/engine/search-space.js';
import { contractParameters } from '../../support/specs.js';

const space = new SearchSpace(contractParameters().map((p) => ParameterSpec.parse(p)));

function randomUnits(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.unitVector(space.size));
}

describe('search space transforms (property tests over 5,000 random points)', () => {
  const points = randomUnits(5000, 1).map((u) => space.fromUnit(u));

  it('keeps every value in bounds', () => {
    for (const p of points) {
      assert.ok((p['learning_rate'] as number) >= 1e-5 && (p['learning_rate'] as number) <= 0.1);
      assert.ok((p['batch_size'] as number) >= 16 && (p['batch_size'] as number) <= 512);
      assert.ok((p['dropout'] as number) >= 0 && (p['dropout'] as number) <= 0.6);
      assert.ok(space.contains(p));
    }
  });

  it('puts stepped values exactly on the step, and ints are ints', () => {
    for (const p of points) {
      const k = (p['dropout'] as number) / 0.05;
      assert.ok(Math.abs(k - Math.round(k)) < 1e-9, `dropout ${p['dropout']} is off the 0.05 grid`);
      assert.equal(String(p['dropout']).length <= 4, true, `dropout ${p['dropout']} carries float noise`);
      assert.ok(Number.isInteger(p['batch_size']));
    }
  });

  it('spaces log parameters evenly in log space', () => {
    const decades = [0, 0, 0, 0];
    for (const p of points) decades[Math.min(3, Math.floor(Math.log10(p['learning_rate'] as number) + 5))]!++;
    for (const count of decades)
      assert.ok(Math.abs(count - 1250) < 150, `decade counts ${decades} are not uniform`);
    const small = points.filter((p) => (p['batch_size'] as number) < 90).length;
    // log-uniform on [16, 512]: P(x < 90) ≈ ln(89.5/15.5)/ln(512.5/15.5) ≈ 0.5
    assert.ok(Math.abs(small / points.length - 0.5) < 0.05);
  });

  it('covers every category and every step', () => {
    assert.deepEqual(new Set(points.map((p) => p['optimizer'])), new Set(['sgd', 'adam', 'rmsprop']));
    assert.equal(new Set(points.map((p) => p['dropout'])).size, 13);
  });

  it('round-trips through toUnit and through the string form', () => {
    for (const p of points.slice(0, 500)) {
      assert.deepEqual(space.fromUnit(space.toUnit(p)), p);
      assert.deepEqual(space.parse(space.format(p)), p);
    }
  });

  it('rejects foreign values when parsing', () => {
    assert.throws(
      () => space.parse({ ...space.format(points[0]!), optimizer: 'lbfgs' }),
      /optimizer: "lbfgs" is not one of its values/,
    );
    assert.throws(
      () => space.parse({ ...space.format(points[0]!), batch_size: '3.5' }),
      /batch_size: 3.5 is not an integer/,
    );
  });
});

describe('stepped parameters', () => {
  const fine = new SearchSpace(
    [
      { name: 'x', type: 'double', min: 0, max: 1000, step: 0.001 },
      { name: 'n', type: 'int', min: 0, max: 1_000_000_000, step: 7 },
      { name: 'tiny', type: 'double', min: 0, max: 1e-14, step: 1e-16 },
    ].map((p) => ParameterSpec.parse(p)),
  );
  const points = randomUnits(2000, 2).map((u) => fine.fromUnit([u[0]!, u[1]!, u[2]!]));

  it('puts every value on the step however many values the grid has', () => {
    for (const p of points) {
      const x = p['x'] as number;
      assert.ok(x >= 0 && x <= 1000);
      assert.ok(Math.abs(x * 1000 - Math.round(x * 1000)) < 1e-6, `x=${x} is off the 0.001 grid`);
      assert.ok((String(x).split('.')[1] ?? '').length <= 3, `x=${x} carries float noise`);
      const n = p['n'] as number;
      assert.ok(Number.isInteger(n) && n % 7 === 0 && n >= 0 && n <= 1_000_000_000, `n=${n}`);
      assert.ok(fine.contains(p), JSON.stringify(p));
      assert.deepEqual(fine.fromUnit(fine.toUnit(p)), p);
    }
  });

  it('keeps steps finer than 1e-15 distinct', () => {
    const values = new Set(points.map((p) => p['tiny']));
    assert.equal(values.size, 101);
    for (const v of values) {
      const k = (v as number) / 1e-16;
      assert.ok(Math.abs(k - Math.round(k)) < 1e-6, `tiny=${v} is off the 1e-16 grid`);
    }
  });

  it('refuses values off the step', () => {
    const p = { ...points[0]!, x: 123.4565 };
    assert.equal(fine.contains(p), false);
    assert.equal(fine.contains({ ...points[0]!, n: 15 }), false);
    assert.equal(fine.contains({ ...points[0]!, x: 123.456, n: 14 }), true);
  });
});

describe('steps finer than a double can count', () => {
  it('are refused with the field and the smallest step allowed', () => {
    assert.throws(
      () =>
        new SearchSpace([ParameterSpec.parse({ name: 'x', type: 'double', min: 0, max: 1, step: 1e-300 })]),
      (e: Error) =>
        e.name === 'SettingsError' &&
        e.message ===
          'parameters[0].step: step 1e-300 divides [0, 1] of x into more than 2^53 values; use a step of at least 1.1102230246251565e-16',
    );
  });
});

describe('range width', () => {
  it('is refused by the schema when max - min overflows, naming the field', () => {
    const r = ParameterSpec.safeParse({ name: 'x', type: 'double', min: -1e308, max: 1e308 });
    assert.equal(r.success, false);
    assert.deepEqual(
      r.error?.issues.map((i) => [i.path.join('.'), i.message]),
      [['max', 'max - min must be at most 1.7976931348623157e308, the largest finite double']],
    );
  });

  it('may be as wide as a finite double, and then every value stays finite and in bounds', () => {
    const wide = new SearchSpace([
      ParameterSpec.parse({ name: 'x', type: 'double', min: -8e307, max: 8e307 }),
    ]);
    for (const [u] of randomUnits(200, 3)) {
      const x = wide.fromUnit([u!])['x'] as number;
      assert.ok(Number.isFinite(x) && x >= -8e307 && x <= 8e307, `x=${x}`);
    }
  });
});
