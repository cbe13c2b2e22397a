export * from './parameter.js';
export * from './metrics-spec.js';
export * from './trial-template.js';
export * from './study.js';
export * from './trial.js';
export * from './placeholders.js';
export { formatZodError, type FieldError } from './errors.js';
