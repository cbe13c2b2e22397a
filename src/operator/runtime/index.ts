export * from './http-server.js';
export * from './kube-errors.js';
export * from './leader-election.js';
export * from './operator-metrics.js';
export * from './prometheus-query.js';
export * from './prometheus-text.js';
export * from './supervised-informer.js';
export * from './work-queue.js';
