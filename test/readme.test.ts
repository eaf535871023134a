// The README's CLI reference is generated from the command table; this keeps it true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { markdownReference } from '../src/cli/commands.ts';

test('README CLI section equals `mailcove help --markdown`', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const m = /<!-- cli:begin[^>]*-->\n([\s\S]*?)<!-- cli:end -->/.exec(readme);
  assert.ok(m, 'README has the cli:begin/cli:end markers');
  assert.equal(m[1], markdownReference(), 'regenerate with: bin/mailcove help --markdown');
});

test('README shows the two quick-start commands', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  assert.match(readme, /npm install && npm start/);
  assert.match(readme, /npm install && npm test/);
});
