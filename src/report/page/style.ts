/** The page's stylesheet; colours come from custom properties so both themes share the rules. */
export const STYLE = `
:root { color-scheme: light; --bg: #ffffff; --fg: #1b1b1b; --muted: #5a5a5a; --panel: #f5f6f8;
  --border: #d0d4da; --accent: #0072B2; --focus: #D55E00; }
:root[data-theme='dark'] { color-scheme: dark; --bg: #14161a; --fg: #e8e8e8; --muted: #a8adb5;
  --panel: #1d2026; --border: #3a3f48; --accent: #56B4E9; --focus: #E69F00; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; padding: .75rem 1.25rem;
  border-bottom: 1px solid var(--border); }
header h1 { font-size: 1.2rem; margin: 0; flex: 1; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 1rem; padding: 1rem 1.25rem; }
section { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: .75rem; min-width: 0; }
section.wide { grid-column: 1 / -1; }
section h2 { font-size: 1rem; margin: 0 0 .4rem; }
.chart { width: 100%; height: 340px; }
.note, .method { color: var(--muted); font-size: .85rem; margin: .2rem 0 .5rem; }
button, select { font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--border);
  border-radius: 4px; padding: .2rem .5rem; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; }
.table-wrap { overflow: auto; max-height: 520px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid var(--border); white-space: nowrap; }
th { position: sticky; top: 0; background: var(--panel); }
th button { border: 0; background: none; padding: 0; font-weight: 600; cursor: pointer; }
th[aria-sort='ascending'] button::after { content: ' ▲'; }
th[aria-sort='descending'] button::after { content: ' ▼'; }
td button { border: 0; background: none; padding: 0; color: var(--accent); text-decoration: underline; cursor: pointer; }
tr[aria-selected='true'] td { background: color-mix(in srgb, var(--accent) 18%, transparent); }
pre#log { max-height: 420px; overflow: auto; background: var(--bg); border: 1px solid var(--border);
  padding: .5rem; margin: 0; white-space: pre-wrap; word-break: break-all; }
`;
