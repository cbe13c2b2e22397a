// Bundles the report page (src/report/page, with ECharts) into one script, dist/report/page.js,
// which src/report/html.ts inlines into report.html so the file needs no network.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/report/page/main.ts'],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  // ECharts' licence header stays in the bundle that ships it.
  legalComments: 'inline',
  outfile: 'dist/report/page.js',
  logLevel: 'warning',
});
