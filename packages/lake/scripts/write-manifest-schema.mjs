// Regenerates manifest.schema.json from the zod schema (run after `npx tsc -b tsconfig.build.json`):
//   node packages/lake/scripts/write-manifest-schema.mjs
// A test (manifest.test.ts) fails when the file and the zod schema disagree.
import { writeFileSync } from 'node:fs';
import { manifestJsonSchema } from '@recomart/lake';

const target = new URL('../manifest.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
