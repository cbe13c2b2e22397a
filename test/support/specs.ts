import type { z } from 'zod';
import type { ParameterSpec } from '../../src/api/parameter.js';
import type { StudySpecInput } from '../../src/api/study.js';
import { StudySpec } from '../../src/api/study.js';

/** The parameter shapes the API promises to keep (the foundation issue's contract). */
export function contractParameters(): z.input<typeof ParameterSpec>[] {
  return [
    { name: 'learning_rate', type: 'double', min: 1.0e-5, max: 0.1, log: true },
    { name: 'batch_size', type: 'int', min: 16, max: 512, log: true },
    { name: 'dropout', type: 'double', min: 0, max: 0.6, step: 0.05 },
    { name: 'optimizer', type: 'categorical', values: ['sgd', 'adam', 'rmsprop'] },
  ];
}

export function specInput(overrides: Partial<StudySpecInput> = {}): StudySpecInput {
  return {
    parameters: contractParameters(),
    objective: { metric: 'loss', goal: 'minimize' },
    algorithm: { name: 'random' },
    trialTemplate: {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'trainer',
                image: 'ghcr.io/kubetune/trainer:0.1.0',
                args: ['--learning-rate', '${params.learning_rate}', '--trial', '${trial.name}'],
              },
            ],
          },
        },
      },
    },
    ...overrides,
  } as StudySpecInput;
}

export function spec(overrides: Partial<StudySpecInput> = {}) {
  return StudySpec.parse(specInput(overrides));
}
