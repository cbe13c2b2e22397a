import type { TemplateContainer, TrialTemplate } from '../api/trial-template.js';
import { substitute, type PlaceholderValues } from '../api/placeholders.js';

export interface TrialIdentity {
  study: string;
  name: string;
  index: number;
  params: Record<string, string>;
}

/** `<study>-<index>`: deterministic so that creating a trial twice collides instead of duplicating. */
export function trialName(study: string, index: number): string {
  return `${study}-${index}`;
}

/** Substitutes every item; an item whose optional placeholder names an inactive parameter is dropped. */
function renderList(items: readonly string[], values: PlaceholderValues): string[] {
  return items.flatMap((t) => substitute(t, values) ?? []);
}

type EnvVar = NonNullable<TemplateContainer['env']>[number];

function renderEnv(env: readonly EnvVar[], values: PlaceholderValues): EnvVar[] {
  return env.flatMap((e) => {
    if (e.value === undefined) return [e];
    const value = substitute(e.value, values);
    return value === undefined ? [] : [{ ...e, value }];
  });
}

function renderContainer(c: TemplateContainer, values: PlaceholderValues): TemplateContainer {
  return {
    ...c,
    ...(c.command ? { command: renderList(c.command, values) } : {}),
    ...(c.args ? { args: renderList(c.args, values) } : {}),
    ...(c.env ? { env: renderEnv(c.env, values) } : {}),
  };
}

/** The Job spec for one trial: placeholders in command, args and env values replaced. */
export function renderJobSpec(template: TrialTemplate, trial: TrialIdentity): TrialTemplate['spec'] {
  const values: PlaceholderValues = {
    params: trial.params,
    trial: { name: trial.name, index: trial.index },
    study: { name: trial.study },
  };
  const podSpec = template.spec.template.spec;
  return {
    ...template.spec,
    template: {
      ...template.spec.template,
      spec: { ...podSpec, containers: podSpec.containers.map((c) => renderContainer(c, values)) },
    },
  };
}

/** The container whose output carries the metrics. */
export function primaryContainer(template: TrialTemplate, jobSpec = template.spec): TemplateContainer {
  const containers = jobSpec.template.spec.containers;
  const wanted = template.primaryContainerName;
  const found = wanted === undefined ? containers[0] : containers.find((c) => c.name === wanted);
  if (!found) throw new Error(`trialTemplate has no container named ${wanted}`);
  return found;
}
