import type { ReportStudy } from '../model.js';
import type { ChartView } from './main.js';
import { succeeded } from './format.js';

// In page order: the two narrow views of each row together, the wide ones between.
const TITLES: Record<ChartView, string> = {
  history: 'Optimization history',
  importance: 'Parameter importance',
  parallel: 'Parallel coordinates',
  slice: 'Slice plots',
  contour: 'Contour',
  curves: 'Learning curves',
};

export interface Views {
  chart(view: ChartView): HTMLElement;
  table: HTMLElement;
  log: HTMLElement;
  /** Writes the study's texts and notes; returns the two contour parameters to draw, if any. */
  update(s: ReportStudy, theme: string, axes: [string, string] | undefined): [string, string] | undefined;
}

interface Handlers {
  studies(): ReportStudy[];
  pickStudy(id: string): void;
  toggleTheme(): void;
  pickContour(axes: [string, string]): void;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string | number | boolean> = {},
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  Object.assign(node, props);
  return node;
}

function section(id: string, title: string, wide = false): { section: HTMLElement; note: HTMLElement } {
  const s = el('section', { id: `view-${id}`, className: wide ? 'wide' : '' });
  s.setAttribute('aria-labelledby', `title-${id}`);
  const note = el('p', { className: 'note' });
  s.append(el('h2', { id: `title-${id}`, textContent: title }), note);
  return { section: s, note };
}

function chartSections(main: HTMLElement) {
  const charts = {} as Record<ChartView, { section: HTMLElement; note: HTMLElement; host: HTMLElement }>;
  for (const view of Object.keys(TITLES) as ChartView[]) {
    const s = section(view, TITLES[view], view === 'parallel' || view === 'slice');
    const host = el('div', { className: 'chart' });
    host.setAttribute('role', 'img');
    host.setAttribute('aria-label', TITLES[view]);
    s.section.append(host);
    main.append(s.section);
    charts[view] = { ...s, host };
  }
  return charts;
}

/** Builds the page's fixed structure once; charts are drawn into it by main.ts. */
export function layout(body: HTMLElement, on: Handlers): Views {
  const title = el('h1');
  const picker = el('select', { ariaLabel: 'study' });
  picker.addEventListener('change', () => on.pickStudy(picker.value));
  const themeButton = el('button', { type: 'button', textContent: 'Dark / light theme' });
  themeButton.addEventListener('click', on.toggleTheme);
  const header = el('header');
  header.append(title, picker, themeButton);
  const main = el('main');
  const charts = chartSections(main);
  const method = el('p', { className: 'method' });
  charts.importance.section.insertBefore(method, charts.importance.host);
  const [cx, cy] = [el('select', { ariaLabel: 'contour x' }), el('select', { ariaLabel: 'contour y' })];
  const pickContour = () => on.pickContour([cx.value, cy.value]);
  cx.addEventListener('change', pickContour);
  cy.addEventListener('change', pickContour);
  charts.contour.section.insertBefore(el('div'), charts.contour.host).append('x ', cx, ' y ', cy);
  const trials = section('table', 'Trials', true);
  const tableHost = el('div');
  trials.section.append(tableHost);
  const logs = section('log', 'Trial log', true);
  const log = el('pre', { id: 'log', tabIndex: 0, textContent: 'Pick a trial in the table to see its log.' });
  logs.section.append(log);
  main.append(trials.section, logs.section);
  body.replaceChildren(header, main);
  return {
    chart: (view) => charts[view].host,
    table: tableHost,
    log,
    update: (s, theme, axes) => {
      title.textContent = `kubetune · ${s.name}: ${s.goal} ${s.metric}`;
      document.title = `${s.name} · kubetune`;
      themeButton.setAttribute('aria-pressed', String(theme === 'dark'));
      picker.replaceChildren(
        ...on.studies().map((x) => el('option', { value: x.id, textContent: x.id, selected: x.id === s.id })),
      );
      picker.hidden = on.studies().length < 2;
      method.textContent = s.importance ? `Method: ${s.importance.method}` : '';
      writeNotes(s, charts);
      return contourPick(s, cx, cy, charts.contour.note, axes);
    },
  };
}

function writeNotes(
  s: ReportStudy,
  charts: Record<ChartView, { note: HTMLElement; host: HTMLElement }>,
): void {
  const done = succeeded(s).length;
  const none = done === 0 ? 'No succeeded trial yet.' : '';
  // Priors seeded the sampler but are no trials of this study, so they are counted apart.
  const priors = s.priors
    ? ` ${s.priors.trials} trials of earlier studies seeded the sampler (not shown).`
    : '';
  const notes: Record<ChartView, string> = {
    history: `${s.trials.length} trials, ${done} succeeded.${priors}`,
    parallel: none,
    slice: none,
    importance: s.importance ? '' : `Not computed: ${s.importanceNote ?? 'no data'}.`,
    contour:
      none ||
      (s.parameters.length < 2
        ? 'Needs two parameters.'
        : 'Each cell shows the best value among the trials that fell in it.'),
    curves: s.trials.some((t) => t.intermediate.length)
      ? 'Diamonds mark the step where a pruned trial was stopped.'
      : 'No intermediate values reported.',
  };
  for (const [view, c] of Object.entries(charts) as [ChartView, { note: HTMLElement; host: HTMLElement }][])
    c.note.textContent = notes[view];
}

function contourPick(
  s: ReportStudy,
  cx: HTMLSelectElement,
  cy: HTMLSelectElement,
  note: HTMLElement,
  axes: [string, string] | undefined,
): [string, string] | undefined {
  const names = s.parameters.map((p) => p.name);
  if (names.length < 2) return undefined;
  // By default the two most important parameters, else the first two.
  const ranked = s.importance
    ? [...names].sort((a, b) => (s.importance?.scores[b] ?? 0) - (s.importance?.scores[a] ?? 0))
    : names;
  const pick: [string, string] =
    axes && axes[0] !== axes[1] && names.includes(axes[0]) && names.includes(axes[1])
      ? axes
      : [ranked[0] as string, ranked[1] as string];
  if (axes && axes[0] === axes[1]) note.textContent = 'Pick two different parameters.';
  for (const [select, value] of [
    [cx, pick[0]],
    [cy, pick[1]],
  ] as const)
    select.replaceChildren(
      ...names.map((n) => el('option', { value: n, textContent: n, selected: n === value })),
    );
  return pick;
}

/** Shows a trial's log: embedded in report.html, or fetched from the dashboard. */
export async function showLog(pre: HTMLElement, s: ReportStudy, name: string): Promise<void> {
  const trial = s.trials.find((t) => t.name === name);
  pre.dataset.trial = name;
  if (s.logUrl) {
    pre.textContent = `loading the log of ${name}…`;
    const url = new URL(s.logUrl, location.href);
    url.searchParams.set('trial', name);
    const res = await fetch(url);
    const text = await res.text();
    if (pre.dataset.trial === name)
      pre.textContent = res.ok ? text || '(empty log)' : `cannot read the log: ${text}`;
  } else {
    pre.textContent = trial?.log ?? `no log was kept for ${name}`;
  }
  pre.dataset.loaded = name;
}
