import type { ReportStudy, ReportTrial } from '../model.js';
import { durationSeconds, formatDuration, formatNumber } from './format.js';

/** Rows shown at first, and added per "show more": 10,000 rows at once would stall the page. */
export const PAGE_ROWS = 200;

interface Column {
  label: string;
  key: (t: ReportTrial) => number | string | undefined;
  text: (t: ReportTrial) => string;
}

export interface TableState {
  column: number;
  descending: boolean;
  shown: number;
  selected?: string;
}

function columns(s: ReportStudy): Column[] {
  const text = (f: (t: ReportTrial) => number | string | undefined) => (t: ReportTrial) => {
    const v = f(t);
    return typeof v === 'number' ? formatNumber(v) : (v ?? '');
  };
  const col = (label: string, key: Column['key'], show = text(key)): Column => ({ label, key, text: show });
  return [
    col('#', (t) => t.index),
    col('trial', (t) => t.name),
    col('state', (t) => t.state),
    col(s.metric, (t) => t.value),
    ...s.parameters.map((p) => col(p.name, (t) => t.params[p.name])),
    col('reason', (t) => t.reason),
    col('duration', durationSeconds, (t) => formatDuration(durationSeconds(t))),
    col('GPU-hours', (t) => t.gpuHours),
  ];
}

/** Missing values sort last whichever the direction, so a sort never buries the finished trials. */
function compare(a: number | string | undefined, b: number | string | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

export function sortedTrials(s: ReportStudy, state: TableState): ReportTrial[] {
  const col = columns(s)[state.column] as Column;
  const sign = state.descending ? -1 : 1;
  return [...s.trials].sort((x, y) => {
    const a = col.key(x);
    const b = col.key(y);
    if (a === undefined || b === undefined) return compare(a, b);
    return sign * compare(a, b) || x.index - y.index;
  });
}

function header(
  s: ReportStudy,
  state: TableState,
  onSort: (column: number) => void,
): HTMLTableSectionElement {
  const thead = document.createElement('thead');
  const tr = thead.insertRow();
  columns(s).forEach((c, i) => {
    const th = document.createElement('th');
    th.scope = 'col';
    th.setAttribute(
      'aria-sort',
      i === state.column ? (state.descending ? 'descending' : 'ascending') : 'none',
    );
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = c.label;
    button.addEventListener('click', () => onSort(i));
    th.append(button);
    tr.append(th);
  });
  return thead;
}

/** The trial table: sortable by every column with mouse or keyboard; a trial's name opens its log. */
export function renderTable(
  host: HTMLElement,
  s: ReportStudy,
  state: TableState,
  on: { sort(column: number): void; select(trial: string): void; more(): void },
): void {
  const table = document.createElement('table');
  table.append(header(s, state, on.sort));
  const body = table.createTBody();
  const cols = columns(s);
  for (const t of sortedTrials(s, state).slice(0, state.shown)) {
    const tr = body.insertRow();
    tr.setAttribute('aria-selected', String(t.name === state.selected));
    cols.forEach((c, i) => {
      const td = tr.insertCell();
      if (i !== 1) td.textContent = c.text(t);
      else {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = t.name;
        b.title = 'show this trial’s log';
        b.addEventListener('click', () => on.select(t.name));
        td.append(b);
      }
    });
  }
  const wrap = document.createElement('div');
  wrap.className = 'table-wrap';
  wrap.append(table);
  host.replaceChildren(wrap);
  if (s.trials.length > state.shown) {
    const more = document.createElement('button');
    more.type = 'button';
    more.textContent = `show ${Math.min(PAGE_ROWS, s.trials.length - state.shown)} more of ${s.trials.length - state.shown}`;
    more.addEventListener('click', on.more);
    host.append(more);
  }
}
