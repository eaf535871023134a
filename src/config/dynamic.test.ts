// The live domains.conf: valid changes are picked up, broken ones keep the old config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, watchDomains, addAccount, type DomainsConfig } from './index.ts';
import { configDir, until } from './testfixture.ts';

test('a valid edit is picked up; a broken one keeps the old config and says why', async (t) => {
  const d = await configDir();
  t.after(d.cleanup);
  const cfg = await loadConfig(d.staticPath);
  const seen: DomainsConfig[] = [];
  const live = watchDomains(cfg, (c) => seen.push(c), { debounceMs: 20 });
  t.after(() => live.close());
  const original = await readFile(d.domainsPath, 'utf8');

  await writeFile(d.domainsPath, original + '  bob:\n    domain: example.com\n    destinations:\n      bob@example.com: {}\n');
  await until(() => live.current().accounts['bob'] !== undefined);
  assert.equal(seen.length, 1);
  assert.deepEqual(live.problems(), []);

  await writeFile(d.domainsPath, original + '  carol:\n    domain: exampel.com\n    destinations:\n      carol@example.com: {}\n');
  await until(() => live.problems().length > 0);
  assert.ok(live.current().accounts['bob'], 'old config stays live');
  assert.equal(live.current().accounts['carol'], undefined);
  assert.match(live.problems()[0]?.message ?? '', /"exampel.com" not configured/);
  assert.equal(live.problems()[0]?.line, 16);
  assert.equal(seen.length, 1);

  // An editor's save: write a new file, rename it over the old one.
  const tmp = join(d.dir, '.domains.conf.swp');
  await writeFile(tmp, original.replace('mjl@example.com', 'mjl2@example.com'));
  await rename(tmp, d.domainsPath);
  await until(() => live.current().accounts['mjl']?.destinations['mjl2@example.com'] !== undefined);
  assert.deepEqual(live.problems(), []);
  assert.equal(live.current().accounts['bob'], undefined);
  assert.equal(seen.length, 2);
});

test('an edit through the config module is live at once, without waiting for the watcher', async (t) => {
  const d = await configDir();
  t.after(d.cleanup);
  const cfg = await loadConfig(d.staticPath);
  const live = watchDomains(cfg, undefined, { debounceMs: 60_000 }); // the watcher would not fire within the test
  t.after(() => live.close());
  await addAccount(cfg, { name: 'dave', address: 'dave@example.com' });
  assert.ok(live.current().accounts['dave']);
});

test('a change of comments only does not notify subscribers', async (t) => {
  const d = await configDir();
  t.after(d.cleanup);
  const cfg = await loadConfig(d.staticPath);
  let calls = 0;
  const live = watchDomains(cfg, () => calls++, { debounceMs: 10 });
  t.after(() => live.close());
  await writeFile(d.domainsPath, (await readFile(d.domainsPath, 'utf8')) + '# a new comment\n');
  await live.reload();
  assert.equal(calls, 0);
  await writeFile(d.domainsPath, (await readFile(d.domainsPath, 'utf8')).replace('mailbox: Info', 'mailbox: Information'));
  await live.reload();
  assert.equal(calls, 1);
  assert.equal(live.current().accounts['mjl']?.destinations['info@bücher.example']?.mailbox, 'Information');
});
