import { z } from 'zod';
import { crdRegistry, crdValidation, type CrdValidation } from './crd-meta.js';
import {
  API_GROUP,
  API_VERSION,
  MAX_DERIVED_NAME,
  STUDY_NAME_RULES,
  STUDY_TRANSITION_RULES,
  StudySpec,
  StudyStatus,
} from './study.js';
import { TrialSpec, TrialStatus } from './trial.js';

type Json = Record<string, unknown>;

const FORBIDDEN_KEYWORDS = ['$ref', '$defs', 'definitions', 'anyOf', 'oneOf', 'allOf', 'not', 'uniqueItems'];

/**
 * Makes zod's OpenAPI output a structural schema the apiserver accepts. Anything that cannot be
 * made structural is an error here rather than a CRD the apiserver rejects at install time.
 */
export function toStructural(node: unknown, path = '$'): Json {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) {
    throw new Error(`${path}: expected a schema object`);
  }
  const src = node as Json;
  const out: Json = {};
  for (const [key, value] of Object.entries(src)) {
    if (key === '$schema') continue;
    if (FORBIDDEN_KEYWORDS.includes(key)) {
      throw new Error(
        `${path}: "${key}" cannot appear in a structural CRD schema; restructure the zod schema`,
      );
    }
    if (key === 'properties') {
      const props: Json = {};
      for (const [name, child] of Object.entries(value as Json))
        props[name] = toStructural(child, `${path}.${name}`);
      out[key] = props;
    } else if (key === 'items') {
      out[key] = toStructural(value, `${path}[]`);
    } else if (key === 'additionalProperties') {
      // kubernetes#94593: additionalProperties: false next to properties is rejected, and an
      // "anything" map is expressed as preserve-unknown-fields instead.
      if (value === false || src['x-kubernetes-preserve-unknown-fields'] === true) continue;
      if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) {
        out['x-kubernetes-preserve-unknown-fields'] = true;
        continue;
      }
      out[key] = toStructural(value, `${path}.*`);
    } else {
      out[key] = value;
    }
  }
  if (out['type'] === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    throw new Error(`${path}: every node of a structural schema needs a type`);
  }
  return out;
}

function openApi(schema: z.ZodType): Json {
  const raw = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'throw',
    metadata: crdRegistry,
  });
  return toStructural(raw);
}

interface RootOptions {
  /** Schema of metadata.name; the apiserver allows no other metadata field here. */
  name?: Json;
  /** Rules that need more than spec or status alone: metadata.name, or spec against status. */
  rules?: CrdValidation[];
}

function rootSchema(spec: z.ZodType, status: z.ZodType, root: RootOptions = {}): Json {
  return {
    type: 'object',
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: root.name ? { type: 'object', properties: { name: root.name } } : { type: 'object' },
      spec: openApi(spec),
      status: openApi(status),
    },
    ...(root.rules?.length ? { 'x-kubernetes-validations': root.rules } : {}),
  };
}

interface CrdNames {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
}

function crd(names: CrdNames, schema: Json, columns: Json[]): Json {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${names.plural}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: {
        kind: names.kind,
        listKind: `${names.kind}List`,
        plural: names.plural,
        singular: names.singular,
        shortNames: names.shortNames,
        categories: ['kubetune'],
      },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: columns,
          schema: { openAPIV3Schema: schema },
        },
      ],
    },
  };
}

const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export function studyCrd(): Json {
  return crd(
    { kind: 'Study', plural: 'studies', singular: 'study', shortNames: ['kts'] },
    rootSchema(StudySpec, StudyStatus, {
      // No longer name can fit; the root rules give the exact limit, which depends on maxTrials.
      name: { type: 'string', maxLength: MAX_DERIVED_NAME },
      rules: [...STUDY_NAME_RULES, ...STUDY_TRANSITION_RULES].map(crdValidation),
    }),
    [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Algorithm', type: 'string', jsonPath: '.spec.algorithm.name' },
      { name: 'Trials', type: 'integer', jsonPath: '.status.trials.total' },
      { name: 'Running', type: 'integer', jsonPath: '.status.trials.running' },
      { name: 'Best', type: 'number', jsonPath: '.status.bestTrial.value' },
      { name: 'Best-Trial', type: 'string', jsonPath: '.status.bestTrial.name', priority: 1 },
      age,
    ],
  );
}

export function trialCrd(): Json {
  return crd(
    { kind: 'Trial', plural: 'trials', singular: 'trial', shortNames: ['ktt'] },
    rootSchema(TrialSpec, TrialStatus),
    [
      { name: 'Study', type: 'string', jsonPath: '.spec.study' },
      { name: 'State', type: 'string', jsonPath: '.status.state' },
      { name: 'Objective', type: 'number', jsonPath: '.status.objective' },
      { name: 'Reason', type: 'string', jsonPath: '.status.reason', priority: 1 },
      age,
    ],
  );
}

export const CRD_FILES: Record<string, () => Json> = {
  'kubetune.io_studies.yaml': studyCrd,
  'kubetune.io_trials.yaml': trialCrd,
};
