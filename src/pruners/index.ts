import type { PrunerName } from '../api/study.js';
import type { PrunerFactory } from '../engine/pruner.js';

/** earlyStopping.name → pruner. */
export const PRUNERS: Partial<Record<PrunerName, PrunerFactory>> = {};
