import type { createStudy } from '../../src/engine/ask-tell.js';

export type ParameterSpecInput = Parameters<typeof createStudy>[0]['parameters'][number];
