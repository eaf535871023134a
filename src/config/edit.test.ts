// Edits of domains.conf as the CLI and admin page make them: names are written in canonical
// form, comments survive, refusals name what is wrong and leave the file unchanged, and
// every result loads as it was returned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { loadConfig, addDomain, removeDomain, addAddress, removeAddress, addAlias, removeAlias, aliasAddMembers, aliasRemoveMembers, setAccountSettings, setDomainSettings, ConfigError, type Config } from './index.ts';
import { configDir, domainsText as base, type TestDir } from './testfixture.ts';

// The folder's test domains without the IDN address, plus an account bob and a commented list.
const domainsText = base.replace('# Domains for tests', '# Domains for edit tests').replace('      info@xn--bcher-kva.example:\n        mailbox: Info\n', '') +
  '  bob:\n    domain: example.com\n    destinations:\n      bob@example.com: {}\naliases:\n  # the team list\n  team@example.com:\n    members:\n      - mjl@example.com  # first member\n';

async function setup(t: { after(fn: () => Promise<void>): void }): Promise<{ d: TestDir; cfg: Config; text(): Promise<string>; refused(edit: () => Promise<unknown>, message: RegExp): Promise<void> }> {
  const d = await configDir({ domains: domainsText });
  t.after(d.cleanup);
  const cfg = await loadConfig(d.staticPath);
  const text = () => readFile(d.domainsPath, 'utf8');
  const refused = async (edit: () => Promise<unknown>, message: RegExp) => {
    const before = await text();
    await assert.rejects(edit(), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, message);
      return true;
    });
    assert.equal(await text(), before, 'a refused edit leaves the file unchanged');
  };
  return { d, cfg, text, refused };
}

/** The file as written loads to the config the last edit returned, and keeps every comment but those of removed entries. */
async function loadsAsReturned(d: TestDir, cfg: Config, removed: string[] = []): Promise<void> {
  const text = await readFile(d.domainsPath, 'utf8');
  for (const comment of ['# Domains for edit tests', '# the main domain', '# mjl is the admin', '# bare localpart: at example.com', '# the team list'].filter((c) => !removed.includes(c))) assert.ok(text.includes(comment), `lost comment ${comment}:\n${text}`);
  assert.deepEqual((await loadConfig(d.staticPath)).domains, cfg.domains);
}

test('addDomain stores the lowercase U-label with its separators; a duplicate or invalid name is refused', async (t) => {
  const { d, cfg, text, refused } = await setup(t);
  await addDomain(cfg, 'XN--CAF-DMA.Example', { localpartCatchallSeparator: ['-'] });
  await addDomain(cfg, 'other.example', { localpartCatchallSeparator: ['+', '-'] });
  await addDomain(cfg, 'plain.example');
  assert.match(await text(), /^ {2}café\.example:\n {4}localpartCatchallSeparator: "-"$/m);
  assert.deepEqual(cfg.domains.domains['other.example']?.localpartCatchallSeparator, ['+', '-']);
  assert.match(await text(), /^ {2}plain\.example: \{\}$/m);
  await loadsAsReturned(d, cfg);
  await refused(() => addDomain(cfg, 'Café.example'), /domains\.Café\.example: domain "café\.example" already exists/);
  await refused(() => addDomain(cfg, 'bad_name.example'), /invalid domain "bad_name\.example"/);
  await refused(() => addDomain(cfg, '192.0.2.1'), /an IP address is not a domain/);
});

test('removeDomain is refused while accounts, addresses or aliases use it, listing them all; then removes it', async (t) => {
  const { d, cfg, refused } = await setup(t);
  await addDomain(cfg, 'café.example');
  await addAddress(cfg, 'mjl', 'hello@café.example');
  await addAlias(cfg, 'list@café.example', ['hello@café.example']);
  await refused(() => removeDomain(cfg, 'xn--caf-dma.example'), /domain "café\.example" is still used by address "hello@café\.example" of account "mjl", alias "list@café\.example"; remove those first/);
  await refused(() => removeDomain(cfg, 'example.com'), /is still used by account "mjl" \(its domain\), address "mjl@example\.com" of account "mjl", address "postmaster@example\.com" of account "mjl", account "bob" \(its domain\), address "bob@example\.com" of account "bob", alias "team@example\.com"/);
  await refused(() => removeDomain(cfg, 'nowhere.example'), /no domain "nowhere\.example"/);
  await removeAlias(cfg, 'list@café.example');
  await removeAddress(cfg, 'hello@café.example');
  await removeDomain(cfg, 'CAFÉ.example');
  assert.equal(cfg.domains.domains['café.example'], undefined);
  await loadsAsReturned(d, cfg);
});

test('addAddress writes the canonical address: full, bare localpart, or @domain catch-all; refusals name the owner or the problem', async (t) => {
  const { d, cfg, text, refused } = await setup(t);
  await addAddress(cfg, 'bob', 'Robert@EXAMPLE.com');
  await addAddress(cfg, 'bob', 'Bobby');
  await addAddress(cfg, 'mjl', '@xn--bcher-kva.example');
  assert.match(await text(), /^ {6}robert@example\.com: \{\}\n {6}bobby@example\.com: \{\}$/m);
  assert.match(await text(), /^ {6}"@bücher\.example": \{\}$/m);
  assert.deepEqual(Object.keys(cfg.domains.accounts['bob']?.destinations ?? {}), ['bob@example.com', 'robert@example.com', 'bobby@example.com']);
  await loadsAsReturned(d, cfg);
  await refused(() => addAddress(cfg, 'bob', 'POSTMASTER@example.com'), /address "postmaster@example\.com" already in use by account "mjl"/);
  await refused(() => addAddress(cfg, 'bob', 'team@example.com'), /already in use by alias "team@example\.com"/);
  await refused(() => addAddress(cfg, 'bob', '@bücher.example'), /"@bücher\.example" already in use by account "mjl"/);
  await refused(() => addAddress(cfg, 'bob', 'bob@nowhere.example'), /domain "nowhere\.example" not configured/);
  await refused(() => addAddress(cfg, 'nobody', 'x@example.com'), /no account "nobody"/);
  await refused(() => addAddress(cfg, 'bob', 'bob+x@example.com'), /catch-all separator "\+"/);
  await refused(() => addAddress(cfg, 'bob', 'a b@example.com'), /invalid localpart/);
});

test("removeAddress removes by canonical address; refuses an account's last address, an alias, an alias member and unknown addresses", async (t) => {
  const { d, cfg, refused } = await setup(t);
  await refused(() => removeAddress(cfg, 'BOB@example.com'), /"bob@example\.com" is the last address of account "bob"; an account needs one \(remove the account instead\)/);
  await refused(() => removeAddress(cfg, 'mjl@example.com'), /address "mjl@example\.com" is a member of alias "team@example\.com"; remove it from there first/);
  await refused(() => removeAddress(cfg, 'team@example.com'), /"team@example\.com" is an alias, not an account address/);
  await refused(() => removeAddress(cfg, 'nobody@example.com'), /address "nobody@example\.com" not configured for an account/);
  await refused(() => removeAddress(cfg, 'postmaster'), /not a full address/);
  await removeAddress(cfg, 'PostMaster@Example.COM'); // written as the bare localpart 'Postmaster'
  assert.deepEqual(Object.keys(cfg.domains.accounts['mjl']?.destinations ?? {}), ['mjl@example.com']);
  await loadsAsReturned(d, cfg, ['# bare localpart: at example.com']);
});

test('addAlias writes the canonical address, members and the flags that are set; refuses bad addresses and members', async (t) => {
  const { d, cfg, text, refused } = await setup(t);
  await addAlias(cfg, 'Sales@Example.com', ['BOB@example.com', 'postmaster@example.com'], { postPublic: true, allowMsgFrom: true });
  assert.match(await text(), /^ {2}sales@example\.com:\n {4}members:\n {6}- bob@example\.com\n {6}- postmaster@example\.com\n {4}postPublic: true\n {4}allowMsgFrom: true$/m);
  assert.deepEqual(cfg.domains.aliases['sales@example.com'], { members: ['bob@example.com', 'postmaster@example.com'], postPublic: true, listMembers: false, allowMsgFrom: true });
  await loadsAsReturned(d, cfg);
  await refused(() => addAlias(cfg, 'team@example.com', ['bob@example.com']), /address "team@example\.com" already in use by alias "team@example\.com"/);
  await refused(() => addAlias(cfg, 'bob@example.com', ['mjl@example.com']), /already in use by account "bob"/);
  await refused(() => addAlias(cfg, 'x@example.com', []), /an alias needs at least one member/);
  await refused(() => addAlias(cfg, 'x@example.com', ['stranger@example.com']), /member "stranger@example\.com" is not an address of an account/);
  await refused(() => addAlias(cfg, 'x@example.com', ['team@example.com']), /member "team@example\.com" is not an address of an account/);
  await refused(() => addAlias(cfg, 'x@example.com', ['bob@example.com', 'BOB@example.com']), /member "BOB@example\.com" listed twice/);
  await refused(() => addAlias(cfg, 'x@example.com', ['someone@example.org']), /member "someone@example\.org": domain "example\.org" not configured/);
  await refused(() => addAlias(cfg, 'x@example.com', ['@example.com']), /member "@example\.com": needs a localpart/);
  await refused(() => addAlias(cfg, 'x', ['bob@example.com']), /alias "x": not a full address/);
  await refused(() => addAlias(cfg, '@example.com', ['bob@example.com']), /alias "@example\.com": needs a localpart/);
});

test('alias members are added and removed in the list as written, keeping its comments; an alias is never left empty', async (t) => {
  const { d, cfg, text, refused } = await setup(t);
  await aliasAddMembers(cfg, 'TEAM@example.com', ['Bob@example.com', 'postmaster@example.com']);
  assert.match(await text(), /^ {6}- mjl@example\.com # first member\n {6}- bob@example\.com\n {6}- postmaster@example\.com$/m);
  await refused(() => aliasAddMembers(cfg, 'team@example.com', ['bob@example.com']), /already a member: "bob@example\.com"/);
  await refused(() => aliasAddMembers(cfg, 'nope@example.com', ['bob@example.com']), /no alias "nope@example\.com"/);
  await refused(() => aliasRemoveMembers(cfg, 'team@example.com', ['stranger@example.com']), /"stranger@example\.com" is not a member of alias "team@example\.com"/);
  await refused(() => aliasRemoveMembers(cfg, 'team@example.com', ['mjl@example.com', 'bob@example.com', 'postmaster@example.com']), /alias "team@example\.com" would have no members left; remove the alias instead/);
  await aliasRemoveMembers(cfg, 'team@example.com', ['BOB@example.com', 'postmaster@EXAMPLE.com']);
  assert.deepEqual(cfg.domains.aliases['team@example.com']?.members, ['mjl@example.com']);
  assert.match(await text(), /- mjl@example\.com # first member\n/);
  await loadsAsReturned(d, cfg);
  await refused(() => removeAlias(cfg, 'nope@example.com'), /no alias "nope@example\.com"/);
  await removeAlias(cfg, 'Team@Example.com');
  assert.deepEqual(cfg.domains.aliases, {});
  assert.deepEqual((await loadConfig(d.staticPath)).domains, cfg.domains);
});

test('setAccountSettings sets and clears full name, quota and the login switch; an unknown account is refused', async (t) => {
  const { cfg, text, refused } = await setup(t);
  let cur = await setAccountSettings(cfg, 'bob', { fullName: 'Bob Böhm', quotaBytes: 1048576, loginDisabled: 'moved to another server' });
  assert.deepEqual([cur.accounts['bob']?.fullName, cur.accounts['bob']?.quotaBytes, cur.accounts['bob']?.loginDisabled], ['Bob Böhm', 1048576, 'moved to another server']);
  assert.match(await text(), /# the team list/); // comments survive
  cur = await setAccountSettings(cfg, 'bob', { quotaBytes: null, loginDisabled: null });
  assert.deepEqual([cur.accounts['bob']?.fullName, cur.accounts['bob']?.quotaBytes, cur.accounts['bob']?.loginDisabled], ['Bob Böhm', undefined, undefined]);
  assert.deepEqual((await loadConfig(cfg.paths.static)).domains.accounts['bob']?.fullName, 'Bob Böhm');
  await refused(() => setAccountSettings(cfg, 'nobody', { fullName: 'x' }), /no account "nobody"/);
});

test('setDomainSettings sets the sub-address separators and description, and clears them', async (t) => {
  const { cfg, refused } = await setup(t);
  let cur = await setDomainSettings(cfg, 'example.com', { localpartCatchallSeparator: ['-', '+'], description: 'main domain' });
  assert.deepEqual(cur.domains['example.com']?.localpartCatchallSeparator, ['-', '+']);
  assert.equal(cur.domains['example.com']?.description, 'main domain');
  cur = await setDomainSettings(cfg, 'example.com', { localpartCatchallSeparator: null, description: null });
  assert.equal(cur.domains['example.com']?.description, undefined);
  await refused(() => setDomainSettings(cfg, 'nope.example', { description: 'x' }), /no domain "nope.example"/);
});
