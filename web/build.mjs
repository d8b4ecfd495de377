// Builds the dashboard into OUTDIR as exactly three files: index.html, app.js, app.css.
// Everything is bundled (Chart.js included); nothing is loaded from another host at run time.
// Usage: node build.mjs OUTDIR   (run `npm ci` in web/ first)
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outArg = process.argv[2];
if (!outArg || process.argv.length > 3) {
  console.error('usage: node build.mjs OUTDIR');
  process.exit(2);
}
const out = resolve(outArg);
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  write: false,
  logLevel: 'warning',
  legalComments: 'eof', // keeps Chart.js's MIT licence notice in the bundle
};
const js = await esbuild.build({
  ...common,
  entryPoints: [join(here, 'src/app.js')],
  format: 'iife',
  target: ['es2020'],
  define: { 'process.env.NODE_ENV': '"production"' },
});
const css = await esbuild.build({ ...common, entryPoints: [join(here, 'src/app.css')] });
if (js.outputFiles.length !== 1 || css.outputFiles.length !== 1) {
  console.error('build.mjs: expected one JS and one CSS output');
  process.exit(1);
}
writeFileSync(join(out, 'app.js'), js.outputFiles[0].contents);
writeFileSync(join(out, 'app.css'), css.outputFiles[0].contents);
writeFileSync(join(out, 'index.html'), readFileSync(join(here, 'src/index.html')));
for (const f of ['index.html', 'app.js', 'app.css']) {
  console.log(`${join(out, f)}`);
}
