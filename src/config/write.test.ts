// Edits of domains.conf: comments survive, the result is validated before it is written,
// and the write is atomic (no temp files left, the file is always complete).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { loadConfig, addAccount, removeAccount, addAddress, removeAddress, addDomain, removeDomain, addAlias, removeAlias, parseDomains, ConfigError, writeFileAtomic } from './index.ts';
import { configDir } from './testfixture.ts';

test('addAccount keeps comments, writes a valid file and updates the loaded config', async (t) => {
  const d = await configDir();
  t.after(d.cleanup);
  const cfg = await loadConfig(d.staticPath);
  await addAccount(cfg, { name: 'alice', address: 'Alice@Example.com', fullName: 'Alice' });
  const text = await readFile(d.domainsPath, 'utf8');
  for (const comment of ['# Domains for tests', '# the main domain', '# mjl is the admin', '# bare localpart: at example.com']) assert.ok(text.includes(comment), `lost comment ${comment}:\n${text}`);
  assert.match(text, /^ {2}alice:\n {4}domain: Example.com\n {4}fullName: Alice\n {4}destinations:\n {6}Alice@Example.com: \{\}$/m);
  const r = parseDomains(d.domainsPath, text);
  assert.ok(r.ok);
  assert.ok(r.value.accounts['alice']?.destinations['alice@example.com']);
  assert.deepEqual(cfg.domains, r.value);
  assert.deepEqual((await readdir(d.dir)).sort(), ['domains.conf', 'mailcove.conf'], 'no temp file left behind');
});

test('an edit that would make the config inconsistent is refused and the file is unchanged', async (t) => {
  const d = await configDir();
  t.after(d.cleanup);
  const cfg = await loadConfig(d.staticPath);
  const before = await readFile(d.domainsPath, 'utf8');
  const refused = async (p: Promise<unknown>, message: RegExp) => {
    await assert.rejects(p, (e: unknown) => e instanceof ConfigError && message.test(e.message));
    assert.equal(await readFile(d.domainsPath, 'utf8'), before);
  };
  await refused(addAccount(cfg, { name: 'bob', address: 'MJL@example.com' }), /already used by account "mjl"/);
  await refused(addAccount(cfg, { name: 'mjl', address: 'x@example.com' }), /account "mjl" already exists/);
  await refused(addAccount(cfg, { name: 'bob', address: 'bob@nowhere.example' }), /domain "nowhere.example" not configured/);
  await refused(addAddress(cfg, 'mjl', 'postmaster@example.com'), /already in use/);
  await refused(removeAccount(cfg, 'nobody'), /no account "nobody"/);
  await refused(removeDomain(cfg, 'example.com'), /domain "example.com" is still used by account "mjl" \(its domain\)/);
  await refused(addDomain(cfg, 'EXAMPLE.com'), /already exists/);
  await refused(addAlias(cfg, 'team@example.com', ['stranger@example.org']), /member "stranger@example.org": domain "example.org" not configured/);
});

test('addresses, domains and aliases are added and removed by canonical name', async (t) => {
  const d = await configDir();
  t.after(d.cleanup);
  const cfg = await loadConfig(d.staticPath);
  await addDomain(cfg, 'xn--caf-dma.example', { localpartCatchallSeparator: '-' });
  assert.equal(cfg.domains.domains['café.example']?.localpartCatchallSeparator, '-');
  await addAddress(cfg, 'mjl', 'hello@café.example');
  // Written as 'Postmaster' (bare localpart); removed by its full canonical address.
  await removeAddress(cfg, 'POSTMASTER@example.com');
  assert.deepEqual(Object.keys(cfg.domains.accounts['mjl']?.destinations ?? {}).sort(), ['hello@café.example', 'info@bücher.example', 'mjl@example.com']);
  await addAlias(cfg, 'team@example.com', ['mjl@example.com']);
  assert.deepEqual(cfg.domains.aliases['team@example.com']?.members, ['mjl@example.com']);
  await assert.rejects(removeAccount(cfg, 'mjl'), /member "mjl@example.com" is not an address of an account/);
  await removeAlias(cfg, 'TEAM@example.com');
  await removeAddress(cfg, 'hello@xn--caf-dma.example');
  await removeDomain(cfg, 'café.example');
  await removeAccount(cfg, 'mjl');
  const text = await readFile(d.domainsPath, 'utf8');
  assert.ok(text.includes('# the main domain'));
  assert.doesNotMatch(text, /mjl:|café|team@/);
  const again = await loadConfig(d.staticPath);
  assert.deepEqual(again.domains, cfg.domains);
  assert.deepEqual(again.domains.accounts, {});
});

test('concurrent edits are serialised: none is lost', async (t) => {
  const d = await configDir();
  t.after(d.cleanup);
  const cfg = await loadConfig(d.staticPath);
  const names = ['a1', 'a2', 'a3', 'a4', 'a5'];
  await Promise.all(names.map((n) => addAccount(cfg, { name: n, address: `${n}@example.com` })));
  const again = await loadConfig(d.staticPath);
  for (const n of names) assert.ok(again.domains.accounts[n], `account ${n} lost`);
});

test('an edit of a file broken by hand is refused with the existing problem', async (t) => {
  const d = await configDir();
  t.after(d.cleanup);
  const cfg = await loadConfig(d.staticPath);
  await writeFile(d.domainsPath, (await readFile(d.domainsPath, 'utf8')) + 'bogus: 1\n');
  await assert.rejects(addAccount(cfg, { name: 'bob', address: 'bob@example.com' }), /:15: bogus: unknown key/);
});

test('writeFileAtomic replaces content and keeps the file mode', async (t) => {
  const d = await configDir();
  t.after(d.cleanup);
  const { chmod } = await import('node:fs/promises');
  await chmod(d.domainsPath, 0o640);
  await writeFileAtomic(d.domainsPath, 'domains: {}\n');
  assert.equal(await readFile(d.domainsPath, 'utf8'), 'domains: {}\n');
  assert.equal((await stat(d.domainsPath)).mode & 0o777, 0o640);
  await writeFileAtomic(`${d.dir}/new.conf`, Buffer.from('x'));
  assert.equal((await stat(`${d.dir}/new.conf`)).mode & 0o777, 0o600);
});
