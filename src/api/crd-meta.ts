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
  /** Field the zod issue points at, relative to the object the rule is attached to. */
  path?: string;
  holds(value: T): boolean;
}

export interface CrdMeta {
  'x-kubernetes-validations'?: { rule: string; message: string }[];
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
        ctx.addIssue({ code: 'custom', message: rule.message, path: rule.path ? [rule.path] : [] });
      }
    }
  }) as S;
  crdRegistry.add(checked, {
    'x-kubernetes-validations': rules.map((r) => ({ rule: r.cel, message: r.message })),
  });
  return checked;
}

/** Marks an object whose fields are not ours to describe (a Job spec, sampler settings). */
export function freeForm<S extends z.ZodType>(schema: S): S {
  crdRegistry.add(schema, { 'x-kubernetes-preserve-unknown-fields': true });
  return schema;
}
