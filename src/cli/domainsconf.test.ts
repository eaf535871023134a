// `mailcove config domain|address|alias ...` and `mailcove setadminpassword` on a config
// directory, run through main(): what they print, what they refuse, and that the config
// stays valid (`config test`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliConfigDir, cliStaticText, runArgv, runMailcove, type RunResult } from './testrun.ts';
import { verifyAdminPassword } from '../sasl/index.ts';

async function setup(t: { after(fn: () => Promise<void>): void }, extraStatic = ''): Promise<{ dir: string; run: (words: number, ...argv: string[]) => Promise<RunResult> }> {
  const dir = await cliConfigDir(t, 'domainsconf', { static: cliStaticText + extraStatic });
  return { dir, run: (words, ...argv) => runMailcove(join(dir, 'mailcove.conf'), words, argv) };
}

function ok(r: RunResult, stdout: string | RegExp): void {
  assert.equal(r.code, 0, r.stderr);
  if (typeof stdout === 'string') assert.equal(r.stdout, stdout);
  else assert.match(r.stdout, stdout);
}

function fails(r: RunResult, stderr: RegExp): void {
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, stderr);
}

test('config domain add and rm: separator, canonical name, refusal while in use', async (t) => {
  const { dir, run } = await setup(t);
  ok(await run(3, 'config', 'domain', 'add', '--separator', '-', 'XN--BCHER-KVA.example'), 'domain bücher.example added\n');
  ok(await run(3, 'config', 'domain', 'add', '--separator', '+', '--separator', '-', 'other.example'), 'domain other.example added\n');
  const text = await readFile(join(dir, 'domains.conf'), 'utf8');
  assert.match(text, /^# domains for the CLI tests$/m);
  assert.match(text, /^ {2}bücher\.example:\n {4}localpartCatchallSeparator: "-"$/m);
  fails(await run(3, 'config', 'domain', 'add', 'bücher.example'), /domain "bücher\.example" already exists/);
  ok(await run(3, 'config', 'address', 'add', 'bob', 'info@bücher.example'), 'address info@bücher.example added to account bob\n');
  fails(await run(3, 'config', 'domain', 'rm', 'bücher.example'), /mailcove config domain rm: .*domains\.conf: domains\.bücher\.example: domain "bücher\.example" is still used by address "info@bücher\.example" of account "bob"; remove those first/);
  ok(await run(3, 'config', 'address', 'rm', 'info@bücher.example'), 'address info@bücher.example removed\n');
  ok(await run(3, 'config', 'domain', 'rm', 'bücher.example'), 'domain bücher.example removed\n');
  fails(await run(3, 'config', 'domain', 'rm', 'bücher.example'), /no domain "bücher\.example"/);
  ok(await run(2, 'config', 'test'), 'config OK\n');
});

test('config address add and rm: bare localpart and catch-all; the last address and addresses in use are refused', async (t) => {
  const { run } = await setup(t);
  ok(await run(3, 'config', 'address', 'add', 'mjl', 'Postmaster'), 'address Postmaster added to account mjl\n');
  ok(await run(3, 'config', 'address', 'add', 'mjl', '@example.com'), 'address @example.com added to account mjl\n');
  ok(await run(3, 'config', 'account', 'list'), /^mjl\tmjl@example\.com postmaster@example\.com @example\.com$/m);
  fails(await run(3, 'config', 'address', 'add', 'bob', 'postmaster@example.com'), /already in use by account "mjl"/);
  fails(await run(3, 'config', 'address', 'rm', 'bob@example.com'), /last address of account "bob"/);
  fails(await run(3, 'config', 'address', 'rm', 'nobody@example.com'), /not configured for an account/);
  ok(await run(3, 'config', 'address', 'rm', '@example.com'), 'address @example.com removed\n');
  const usage = await run(3, 'config', 'address', 'add', 'mjl');
  assert.equal(usage.code, 2, 'a missing argument is a usage error');
  ok(await run(2, 'config', 'test'), 'config OK\n');
});

test('config alias add, list, addmembers, rmmembers and rm', async (t) => {
  const { run } = await setup(t);
  ok(await run(3, 'config', 'alias', 'add', '--public', '--list-members', 'Team@example.com', 'mjl@example.com'), 'alias Team@example.com added\n');
  ok(await run(3, 'config', 'alias', 'add', '--allow-msg-from', 'sales@example.com', 'bob@example.com', 'MJL@example.com'), 'alias sales@example.com added\n');
  ok(await run(3, 'config', 'alias', 'list'), 'team@example.com\tmjl@example.com\tpublic,list-members\nsales@example.com\tbob@example.com mjl@example.com\tallow-msg-from\n');
  fails(await run(3, 'config', 'alias', 'add', 'x@example.com', 'nobody@example.com'), /member "nobody@example\.com" is not an address of an account/);
  ok(await run(3, 'config', 'alias', 'addmembers', 'team@example.com', 'bob@example.com'), '1 member(s) added to alias team@example.com\n');
  fails(await run(3, 'config', 'alias', 'addmembers', 'team@example.com', 'bob@example.com'), /already a member: "bob@example\.com"/);
  ok(await run(3, 'config', 'alias', 'list'), /^team@example\.com\tmjl@example\.com bob@example\.com\tpublic,list-members$/m);
  fails(await run(3, 'config', 'alias', 'rmmembers', 'team@example.com', 'mjl@example.com', 'bob@example.com'), /would have no members left; remove the alias instead/);
  ok(await run(3, 'config', 'alias', 'rmmembers', 'team@example.com', 'mjl@example.com'), '1 member(s) removed from alias team@example.com\n');
  fails(await run(3, 'config', 'address', 'rm', 'bob@example.com'), /last address/);
  ok(await run(3, 'config', 'alias', 'rm', 'TEAM@example.com'), 'alias TEAM@example.com removed\n');
  fails(await run(3, 'config', 'alias', 'rm', 'team@example.com'), /no alias "team@example\.com"/);
  ok(await run(3, 'config', 'alias', 'list'), 'sales@example.com\tbob@example.com mjl@example.com\tallow-msg-from\n');
  ok(await run(2, 'config', 'test'), 'config OK\n');
});

test('setadminpassword stores an scrypt hash (mode 0600) in adminpasswd beside mailcove.conf; verifyAdminPassword checks it', async (t) => {
  const { dir } = await setup(t);
  const set = await runArgv(['setadminpassword', '--config', join(dir, 'mailcove.conf')], 'correct horse battery\n');
  ok(set, `admin password set in ${join(dir, 'adminpasswd')}\n`);
  const file = join(dir, 'adminpasswd');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const text = await readFile(file, 'utf8');
  assert.match(text, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+\n$/);
  assert.doesNotMatch(text, /horse/);
  assert.equal(await verifyAdminPassword(dir, {}, 'correct horse battery'), true);
  assert.equal(await verifyAdminPassword(dir, {}, 'wrong'), false);
  // A new password replaces the old one.
  ok(await runArgv(['setadminpassword', '--config', join(dir, 'mailcove.conf')], 'another one\n'), /admin password set/);
  assert.equal(await verifyAdminPassword(dir, {}, 'correct horse battery'), false);
  assert.equal(await verifyAdminPassword(dir, {}, 'another one'), true);
  fails(await runArgv(['setadminpassword', '--config', join(dir, 'mailcove.conf')], '\n'), /password is empty/);
});

test('setadminpassword writes the file named by adminPasswordFile; without a file no password verifies', async (t) => {
  const { dir } = await setup(t, 'adminPasswordFile: secret/admin.hash\n');
  await mkdir(join(dir, 'secret'));
  assert.equal(await verifyAdminPassword(dir, { adminPasswordFile: 'secret/admin.hash' }, 'anything'), false);
  ok(await runArgv(['setadminpassword', '--config', join(dir, 'mailcove.conf')], 'pw for admin\n'), `admin password set in ${join(dir, 'secret', 'admin.hash')}\n`);
  assert.equal(await verifyAdminPassword(dir, { adminPasswordFile: 'secret/admin.hash' }, 'pw for admin'), true);
  await writeFile(join(dir, 'secret', 'admin.hash'), 'pw for admin\n');
  await assert.rejects(verifyAdminPassword(dir, { adminPasswordFile: 'secret/admin.hash' }, 'pw for admin'), /not an admin password hash/);
});
