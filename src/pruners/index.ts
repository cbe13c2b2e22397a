import type { PrunerName } from '../api/study.js';
import type { PrunerFactory } from '../engine/pruner.js';
import { createAshaPruner } from './asha.js';
import { createHyperbandPruner } from './hyperband.js';
import { createMedianPruner, createPercentilePruner } from './percentile.js';

/**
 * earlyStopping.name → pruner; total over the API's PRUNERS. See docs/early-stopping.md for the
 * rules and defaults.
 */
export const PRUNERS: Readonly<Record<PrunerName, PrunerFactory>> = {
  median: createMedianPruner,
  percentile: createPercentilePruner,
  asha: createAshaPruner,
  hyperband: createHyperbandPruner,
};
