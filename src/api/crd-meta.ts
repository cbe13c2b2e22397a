import { z } from 'zod';

/**
 * A cross-field rule written once and enforced twice: by zod (local runs, `kubetune validate`,
 * the ask/tell API) and by the apiserver through the CEL rule generated into the CRD. Keeping
 * both in one table is what stops the two validators from drifting apart.
 */
export interface CrossFieldRule<T> {
  /** CEL expression over `self`, evaluated by the apiserver. */
  cel: string;
  message: string;
  /** A more specific message for zod to report than the apiserver's static `message`. */
  explain?(value: T): string;
  /** Dotted field the zod issue points at, relative to the object the rule is attached to. */
  path?: string;
  holds(value: T): boolean;
}

/**
 * A rule about a change (CEL over `self` and `oldSelf`), enforced by the apiserver only: zod
 * sees one object at a time, never the one it replaces.
 */
export interface TransitionRule {
  cel: string;
  message: string;
}

export interface CrdValidation {
  rule: string;
  message: string;
}

export function crdValidation(rule: CrossFieldRule<never> | TransitionRule): CrdValidation {
  return { rule: rule.cel, message: rule.message };
}

export interface CrdMeta {
  'x-kubernetes-validations'?: CrdValidation[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
}

/** Registry read by the CRD generator; zod itself ignores it. */
export const crdRegistry = z.registry<CrdMeta>();

export function withRules<S extends z.ZodType>(schema: S, rules: CrossFieldRule<z.output<S>>[]): S {
  const checked = schema.superRefine((value, ctx) => {
    for (const rule of rules) {
      if (!rule.holds(value)) {
        ctx.addIssue({
          code: 'custom',
          message: rule.explain?.(value) ?? rule.message,
          path: rule.path ? rule.path.split('.') : [],
        });
      }
    }
  }) as S;
  crdRegistry.add(checked, { 'x-kubernetes-validations': rules.map(crdValidation) });
  return checked;
}

export function withTransitionRules<S extends z.ZodType>(schema: S, rules: TransitionRule[]): S {
  crdRegistry.add(schema, { 'x-kubernetes-validations': rules.map(crdValidation) });
  return schema;
}

/** Marks an object whose fields are not ours to describe (a Job spec, sampler settings). */
export function freeForm<S extends z.ZodType>(schema: S): S {
  crdRegistry.add(schema, { 'x-kubernetes-preserve-unknown-fields': true });
  return schema;
}
