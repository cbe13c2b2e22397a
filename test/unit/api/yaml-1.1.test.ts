import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { yaml11Differences } from '../../../src/cli/yaml-1.1.js';

// What kubectl (v1.34, `kubectl create --dry-run=client -o json`) makes of each unquoted value:
// y/n/on/off/Yes/NO are booleans, 0755 is octal (493), 1_000 is 1000 and 0b11 is 3, while
// 12:30, 2024-01-01 and 0o17 read the same as in YAML 1.2.
const STUDY = `apiVersion: kubetune.io/v1alpha1
kind: Study
metadata: {name: y11}
spec:
  parameters:
    - {name: y, type: double, min: 0, max: 1}
    - name: opt
      type: categorical
      values: [on, off, adam, "yes", true, 12:30, 2024-01-01, 0o17]
    - name: odd
      type: categorical
      values:
        - 0755
        - 1_000
        - 0b11
        - Yes
        - NO
  metrics:
    strategies: {n: max}
`;

describe('YAML 1.1 (kubectl) against YAML 1.2 (kubetune)', () => {
  it('finds each unquoted value kubectl reads differently, with its line and field path', () => {
    assert.deepEqual(
      yaml11Differences(STUDY).map((d) => [d.line, d.path, d.what]),
      [
        [6, 'spec.parameters[0].name', 'y'],
        [9, 'spec.parameters[1].values[0]', 'on'],
        [9, 'spec.parameters[1].values[1]', 'off'],
        [13, 'spec.parameters[2].values[0]', '0755'],
        [14, 'spec.parameters[2].values[1]', '1_000'],
        [15, 'spec.parameters[2].values[2]', '0b11'],
        [16, 'spec.parameters[2].values[3]', 'Yes'],
        [17, 'spec.parameters[2].values[4]', 'NO'],
        [19, 'spec.metrics.strategies', 'key n'],
      ],
    );
  });

  it('says what each side reads and how to make them agree', () => {
    const [name, , , octal] = yaml11Differences(STUDY);
    assert.equal(
      name!.message,
      'kubectl reads y as the boolean true (YAML 1.1), kubetune as the string "y"; quote it: "y"',
    );
    assert.equal(
      octal!.message,
      'kubectl reads 0755 as the number 493 (YAML 1.1), kubetune as the number 755; write 755 for the number, or quote it ("0755") for text',
    );
  });

  it('finds nothing once those values are quoted', () => {
    const quoted = STUDY.replace('name: y,', 'name: "y",')
      .replace('[on, off,', '["on", "off",')
      .replace(/^( {8}- )(\S+)$/gm, '$1"$2"')
      .replace('{n: max}', '{"n": max}');
    assert.deepEqual(yaml11Differences(quoted), []);
  });

  it('leaves broken YAML to the parser', () => {
    assert.deepEqual(yaml11Differences('spec: [y, \n  - on'), []);
  });
});
