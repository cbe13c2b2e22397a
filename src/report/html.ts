import { readFileSync } from 'node:fs';
import type { ReportData } from './model.js';

/** Written by `npm run build` (scripts/build-report-page.mjs); the same path from src/ and dist/. */
const BUNDLE = new URL('../../dist/report/page.js', import.meta.url);

let bundle: string | undefined;
function pageScript(): string {
  if (bundle === undefined) {
    try {
      bundle = readFileSync(BUNDLE, 'utf8');
    } catch {
      throw new Error(`the report page is not built (${BUNDLE.pathname} is missing): run npm run build`);
    }
  }
  return bundle;
}

/**
 * Text that is safe inside a <script> element: `</script` or `<!--` would end or confuse it, and
 * U+2028/U+2029 are line breaks to older JavaScript parsers.
 */
function scriptSafe(text: string): string {
  return text
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The report page: one self-contained HTML file with the data and the page's code inlined. */
export function reportHtml(data: ReportData): string {
  // In code (not JSON) `<\/` means the same as `</` inside strings and regular expressions.
  const code = pageScript().replace(/<\/(script)/gi, '<\\/$1');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'">
<title>kubetune report</title>
</head>
<body>
<noscript>This report needs JavaScript to draw its charts.</noscript>
<script type="application/json" id="kubetune-data">${scriptSafe(JSON.stringify(data))}</script>
<script>${code}</script>
</body>
</html>
`;
}
