// The `mailcove` command line, run as a user runs it: bin/mailcove in a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commands } from '../src/cli/commands.ts';
import { flag } from '../src/cli/command.ts';
import { localservePorts } from '../src/cli/localserve.ts';
import { freeBasePort } from './ports.ts';
import { SmtpTestClient } from '../src/smtpserver/testclient.ts';
import { ImapTestClient } from '../src/imapserver/testclient.ts';

const bin = fileURLToPath(new URL('../bin/mailcove', import.meta.url));

function mailcove(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bin, args, { input, encoding: 'utf8', env: { ...process.env, MAILCOVE_LOG_LEVEL: 'warn' }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `mailcove localserve` on DIR and waits for it to say it is ready. */
async function startLocalserve(dir: string): Promise<{ base: number; out: () => string; err: () => string; stop: () => Promise<number | null> }> {
  const base = await freeBasePort(Object.values(localservePorts));
  const child = spawn(bin, ['localserve', '--dir', dir, '--base-port', String(base)], { env: { ...process.env, MAILCOVE_LOG_LEVEL: 'warn' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!out.includes('ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(out, /ready/, `localserve did not start: ${err}`);
  return { base, out: () => out, err: () => err, stop: () => { child.kill('SIGTERM'); return exited; } };
}

test('every command documents itself with --help', () => {
  for (const c of commands) {
    const r = mailcove([...c.name.split(' '), '--help']);
    assert.equal(r.status, 0, c.name);
    assert.match(r.stdout, new RegExp(`^usage: mailcove ${c.name}`), c.name);
    for (const o of Object.keys(c.options)) assert.ok(r.stdout.includes(flag(o)), `${c.name} documents ${flag(o)}`);
  }
  const all = mailcove(['--help']);
  assert.equal(all.status, 0);
  for (const c of commands) assert.ok(all.stdout.includes(c.name), c.name);
});

test('unknown commands and bad options are usage errors (exit 2)', () => {
  assert.equal(mailcove(['frobnicate']).status, 2);
  const r = mailcove(['localserve', '--bogus']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bogus/);
  assert.equal(mailcove(['verifydata']).status, 2);
});

test('version prints the package version', async () => {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  const r = mailcove(['version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, new RegExp(`^mailcove ${pkg.version.replaceAll('.', '\\.')}`));
});

test('localserve creates its account, serves SMTP, IMAP, the web pages and metrics and shuts down cleanly on SIGTERM', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-ls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ls = await startLocalserve(dir);
  const base = ls.base;
  const out = ls.out();
  assert.match(out, /mailcove@localhost/);
  assert.match(out, /password mailcovemailcove/);

  const res = await fetch(`http://127.0.0.1:${base + localservePorts.metrics}/metrics`);
  assert.equal(res.status, 200);
  const body = await res.text();
  assert.match(body, /mailcove_uncaught_errors_total\{protocol="smtp"\} 0/);
  assert.match(body, /mailcove_process_resident_memory_bytes/);

  // The account page at / and the admin page at /admin/ on base+80 (and over HTTPS on base+443, printed).
  assert.match(out, new RegExp(`account page http://127\\.0\\.0\\.1:${base + localservePorts.http}/ and https://127\\.0\\.0\\.1:${base + localservePorts.https}/`));
  for (const path of ['/', '/admin/']) {
    const page = await fetch(`http://127.0.0.1:${base + localservePorts.http}${path}`);
    assert.equal(page.status, 200, path);
    assert.match(await page.text(), /<script src="app\.js" defer><\/script>/);
  }
  const admin = await fetch(`http://127.0.0.1:${base + localservePorts.http}/admin/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'mailcovemailcove' }) });
  assert.equal(admin.status, 200, 'the admin password of localserve is the account password');

  // SMTP: any recipient is delivered to the account; submission takes plaintext AUTH on loopback and simulates failures.
  const mx = await SmtpTestClient.connect(base + localservePorts.smtp);
  await mx.expect(220);
  for (const [line, code] of [['EHLO app.example', 250], ['MAIL FROM:<app@example.net>', 250], ['RCPT TO:<someone@anywhere.example>', 250], ['DATA', 354]] as const) await mx.command(line, code);
  mx.write('Subject: via localserve\r\n\r\nhello\r\n.\r\n');
  await mx.expect(250);
  await mx.command('QUIT', 221);
  const sub = await SmtpTestClient.connect(base + localservePorts.submission);
  await sub.expect(220);
  await sub.command('EHLO app.example', 250);
  await sub.command(`AUTH PLAIN ${Buffer.from('\0mailcove@localhost\0mailcovemailcove').toString('base64')}`, 235);
  await sub.command('MAIL FROM:<app@example.net>', 250);
  await sub.command('RCPT TO:<rcptto550@localhost>', 550);
  await sub.command('QUIT', 221);
  const implicit = await SmtpTestClient.connect(base + localservePorts.submissions, { tls: { servername: 'localhost' } });
  await implicit.expect(220);
  implicit.close();
  // IMAP on base+143 (LOGIN without TLS on loopback) and base+993: the message delivered over SMTP is there.
  const imap = await ImapTestClient.connect(base + localservePorts.imap);
  assert.match((await imap.run('LOGIN mailcove@localhost mailcovemailcove')).tagged, /^OK /);
  assert.ok((await imap.run('SELECT INBOX')).untagged.includes('* 1 EXISTS'));
  imap.close();
  const imaps = await ImapTestClient.connect(base + localservePorts.imaps, { tls: { servername: 'localhost' } });
  assert.match(imaps.greeting, /^\* OK /);
  imaps.close();

  // The queue: a submission is delivered back into the account; queuetempfail@ stays queued; `mailcove queue` sees both through the control socket.
  const q = await SmtpTestClient.connect(base + localservePorts.submission);
  await q.expect(220);
  await q.command('EHLO app.example', 250);
  await q.command(`AUTH PLAIN ${Buffer.from('\0mailcove@localhost\0mailcovemailcove').toString('base64')}`, 235);
  await q.transaction('app@example.net', ['customer@example.com', 'queuetempfail@example.com'], 'From: <app@example.net>\r\nSubject: queued\r\n\r\nhello');
  await q.command('QUIT', 221);
  let retired = '';
  for (let i = 0; i < 100 && !/customer@example\.com/.test(retired); i++) {
    await new Promise((r) => setTimeout(r, 50));
    retired = mailcove(['queue', 'retired', '--dir', dir]).stdout;
  }
  assert.match(retired, /delivered.*customer@example\.com/);
  const list = mailcove(['queue', 'list', '--dir', dir]);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /queuetempfail@example\.com.*simulated temporary failure/);
  assert.equal(mailcove(['queue', 'drop', '--dir', dir, '--to', 'queuetempfail']).stdout.trim(), '1 entry dropped, without DSN');

  assert.equal(await ls.stop(), 0, ls.err());
  assert.match(ls.out(), /stopped/);

  // The account and its credentials are on disk; the data verifies.
  const accounts = mailcove(['config', 'account', 'list', '--dir', dir]);
  assert.equal(accounts.status, 0, accounts.stderr);
  assert.match(accounts.stdout, /^mailcove\tmailcove@localhost$/m);
  const v = mailcove(['verifydata', join(dir, 'data')]);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /1 accounts, 2 messages/);
});

test('config account add/list/rm and setaccountpassword work on a config directory', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-cfg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // Start from the localserve layout: it writes a valid config.
  assert.equal(await (await startLocalserve(dir)).stop(), 0);

  const cfg = join(dir, 'config', 'mailcove.conf');
  assert.equal(mailcove(['config', 'test', '--config', cfg]).status, 0);

  const add = mailcove(['config', 'account', 'add', '--config', cfg, 'alice', 'alice@localhost']);
  assert.equal(add.status, 0, add.stderr);
  assert.match(mailcove(['config', 'account', 'list', '--config', cfg]).stdout, /^alice\talice@localhost$/m);

  const dup = mailcove(['config', 'account', 'add', '--config', cfg, 'bob', 'alice@localhost']);
  assert.equal(dup.status, 1, 'an address belongs to one account');

  const pw = mailcove(['setaccountpassword', '--config', cfg, 'alice'], 'secret alice password\n');
  assert.equal(pw.status, 0, pw.stderr);
  const nobody = mailcove(['setaccountpassword', '--config', cfg, 'nobody'], 'x\n');
  assert.equal(nobody.status, 1);

  const rmr = mailcove(['config', 'account', 'rm', '--config', cfg, 'alice']);
  assert.equal(rmr.status, 0, rmr.stderr);
  assert.doesNotMatch(mailcove(['config', 'account', 'list', '--config', cfg]).stdout, /alice/);
  assert.equal(mailcove(['verifydata', join(dir, 'data')]).status, 0);

  // A broken domains.conf: config test names file, line and key, and exits 1.
  const domains = join(dir, 'config', 'domains.conf');
  await writeFile(domains, (await readFile(domains, 'utf8')) + '\nbogusKey: 1\n');
  const bad = mailcove(['config', 'test', '--config', cfg]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /domains\.conf:\d+.*bogusKey/);
});
