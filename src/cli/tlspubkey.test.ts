// `mailcove config tlspubkey add|list|rm|gen` on a config directory, run through main().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { cliConfigDir, cliDomainsText, runMailcove } from './testrun.ts';
import { makeSelfSigned, publicKeyFingerprint } from '../tls/index.ts';

// The CLI test accounts, with a catch-all for mjl and a list.
const domainsText = cliDomainsText.replace("      mjl@example.com: {}\n", "      mjl@example.com: {}\n      '@example.com': {}\n") + 'aliases:\n  team@example.com:\n    members: [mjl@example.com]\n';

async function setup(t: { after(fn: () => Promise<void>): void }): Promise<{ dir: string; run: (...argv: string[]) => Promise<{ code: number; stdout: string; stderr: string }> }> {
  const dir = await cliConfigDir(t, 'tlspubkey', { domains: domainsText });
  const run = (...argv: string[]) => runMailcove(join(dir, 'mailcove.conf'), 3, argv);
  return { dir, run };
}

test('config tlspubkey add registers a PEM or DER certificate for an account address; list shows it; rm removes it', async (t) => {
  const { dir, run } = await setup(t);
  const a = await makeSelfSigned({ names: ['laptop'] });
  const b = await makeSelfSigned({ names: ['phone'], keyType: 'ed25519' });
  await writeFile(join(dir, 'a.pem'), a.certPEM);
  await writeFile(join(dir, 'b.der'), new X509Certificate(b.certPEM).raw);
  const fa = publicKeyFingerprint(new X509Certificate(a.certPEM));
  const fb = publicKeyFingerprint(new X509Certificate(b.certPEM));

  const add = await run('config', 'tlspubkey', 'add', 'MJL@example.com', join(dir, 'a.pem'));
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.stdout, `${fa}\n`);
  const addB = await run('config', 'tlspubkey', 'add', '--name', 'bobs phone', '--no-imap-preauth', 'bob@example.com', join(dir, 'b.der'));
  assert.equal(addB.code, 0, addB.stderr);

  const list = (await run('config', 'tlspubkey', 'list')).stdout;
  assert.match(list, new RegExp(`^${fa}\tmjl\tmjl@example\\.com\timap-preauth\tlaptop$`, 'm'));
  assert.match(list, new RegExp(`^${fb}\tbob\tbob@example\\.com\tno-imap-preauth\tbobs phone$`, 'm'));
  assert.equal((await run('config', 'tlspubkey', 'list', 'bob')).stdout.split('\n').filter(Boolean).length, 1);

  const dup = await run('config', 'tlspubkey', 'add', 'bob@example.com', join(dir, 'a.pem'));
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /already exists/);

  assert.equal((await run('config', 'tlspubkey', 'rm', fa)).code, 0);
  assert.doesNotMatch((await run('config', 'tlspubkey', 'list')).stdout, new RegExp(fa));
  const again = await run('config', 'tlspubkey', 'rm', fa);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no TLS public key/);
});

test('config tlspubkey add refuses addresses that are not an account\'s: unknown, catch-all only, alias; and files that are not certificates', async (t) => {
  const { dir, run } = await setup(t);
  const a = await makeSelfSigned({ names: ['x'] });
  await writeFile(join(dir, 'a.pem'), a.certPEM);
  await writeFile(join(dir, 'key.pem'), a.keyPEM);
  for (const address of ['nobody@example.org', 'other@example.com', 'team@example.com']) {
    const r = await run('config', 'tlspubkey', 'add', address, join(dir, 'a.pem'));
    assert.equal(r.code, 1, address);
    assert.match(r.stderr, /not an address of an account/, address);
  }
  const bad = await run('config', 'tlspubkey', 'add', 'mjl@example.com', join(dir, 'key.pem'));
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /not a PEM or DER certificate/);
  assert.equal((await run('config', 'tlspubkey', 'list')).stdout, '');
});

test('config tlspubkey gen writes key, certificate and a .p12 that openssl opens with the printed password; --add registers it', async (t) => {
  const { dir, run } = await setup(t);
  const prefix = join(dir, 'mjl');
  const r = await run('config', 'tlspubkey', 'gen', '--add', '--no-imap-preauth', 'mjl@example.com', prefix);
  assert.equal(r.code, 0, r.stderr);
  const fingerprint = /^fingerprint: (\S+) \(added\)$/m.exec(r.stdout)?.[1];
  const password = /^p12 password: (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(fingerprint && password, r.stdout);

  const cert = new X509Certificate(await readFile(`${prefix}.crt.pem`));
  assert.equal(cert.subject, 'CN=mjl@example.com');
  assert.equal(publicKeyFingerprint(cert), fingerprint);
  assert.equal((await stat(`${prefix}.key.pem`)).mode & 0o777, 0o600);
  assert.equal((await stat(`${prefix}.p12`)).mode & 0o777, 0o600);
  const o = spawnSync('openssl', ['pkcs12', '-in', `${prefix}.p12`, '-nodes', '-passin', `pass:${password}`], { encoding: 'utf8' });
  assert.equal(o.status, 0, o.stderr);
  assert.match(o.stdout, /BEGIN PRIVATE KEY/);
  assert.equal(new X509Certificate(o.stdout).fingerprint256, cert.fingerprint256);

  assert.match((await run('config', 'tlspubkey', 'list', 'mjl')).stdout, new RegExp(`^${fingerprint}\tmjl\tmjl@example\\.com\tno-imap-preauth\tmjl@example\\.com$`, 'm'));

  const again = await run('config', 'tlspubkey', 'gen', 'mjl@example.com', prefix);
  assert.equal(again.code, 1, 'existing files are not overwritten');
  assert.match(again.stderr, /EEXIST/);
});

test('config tlspubkey gen without --add needs no account and registers nothing', async (t) => {
  const { dir, run } = await setup(t);
  const r = await run('config', 'tlspubkey', 'gen', 'someone@elsewhere.example', join(dir, 'k'));
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /added/);
  assert.equal((await run('config', 'tlspubkey', 'list')).stdout, '');
});

test('config account rm removes the account\'s TLS public keys', async (t) => {
  const { dir, run } = await setup(t);
  const r = await run('config', 'tlspubkey', 'gen', '--add', 'bob@example.com', join(dir, 'bob'));
  assert.equal(r.code, 0, r.stderr);
  const rmr = await run('config', 'account', 'rm', 'bob');
  assert.equal(rmr.code, 0, rmr.stderr);
  assert.equal((await run('config', 'tlspubkey', 'list')).stdout, '');
});
