import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { variables } from '@recomart/config';
import { COMMANDS } from '@recomart/cli';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

describe('README', () => {
  it('documents every configuration variable with its default', () => {
    for (const v of Object.values(variables)) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${v.name}\` |`));
      expect(row, `README row for ${v.name}`).toBeDefined();
      if (v.defaultValue) expect(row).toContain(`\`${v.defaultValue}\``);
    }
  });

  it('lists every recomart command', () => {
    for (const c of COMMANDS) expect(readme).toContain(`\`recomart ${c.name}`);
  });

  it('opens with the two commands a newcomer needs', () => {
    const firstScreen = readme.split('\n').slice(0, 25).join('\n');
    expect(firstScreen).toContain('npm ci && npm start');
    expect(firstScreen).toContain('npm test');
  });
});
