export * from './api/index.js';
export { createStudy, Study, type AskedTrial, type BestResult, type TellResult } from './engine/ask-tell.js';
export { StudyEngine, type PlannedTrial, type StudyOutcome } from './engine/study-engine.js';
export { SearchSpace, type Dimension } from './engine/search-space.js';
export type { Sampler, SamplerContext, SamplerFactory } from './engine/sampler.js';
export { SettingsError } from './engine/sampler.js';
export type { Pruner, PruneDecision } from './engine/pruner.js';
export type { TrialView } from './engine/trial-view.js';
export { ValidationError } from './engine/validation-error.js';
