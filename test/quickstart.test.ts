// Issue 7's acceptance for a real domain: `mailcove quickstart` in a temp folder writes a
// config that passes `config test`; its printed DNS records, loaded into a local nsd zone
// behind unbound, pass `config dnscheck`; `mailcove serve` starts from it (ports raised by
// the test-only offset), serves SMTP, the admin page and metrics, runs as the configured
// user when started as root, and `mailcove stop` ends it gracefully.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runArgv } from '../src/cli/testrun.ts';
import { testPortOffsetEnv } from '../src/cli/serve.ts';
import { SmtpTestClient } from '../src/smtpserver/testclient.ts';
import { missingDnsPeers, startDnsServers } from './dnsservers.ts';
import { freeBasePort } from './ports.ts';

const bin = fileURLToPath(new URL('../bin/mailcove', import.meta.url));
const skip = missingDnsPeers.length > 0 && process.env['CI'] !== 'true' ? `DNS test peers missing (${missingDnsPeers.join(', ')})` : false;
const root = process.getuid?.() === 0;

test('quickstart writes a config that passes config test and dnscheck; serve runs it (as the configured user) until mailcove stop', { skip }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-qs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o755); // the server runs as "nobody" after binding: it must reach its folders
  const cwd = process.cwd();
  process.chdir(dir);
  let qs;
  try {
    // The ACME directory is a closed loopback port: the test reaches nothing outside (obtaining certificates is the pebble test's).
    qs = await runArgv(['quickstart', 'mjl@example.mcove', '--skip-dial', '--user', 'nobody', '--acme-directory', 'https://127.0.0.1:9/directory']);
  } finally {
    process.chdir(cwd);
  }
  assert.equal(qs.code, 0, qs.stderr);
  const staticPath = join(dir, 'config/mailcove.conf');
  const adminPassword = /admin page: (\S+)/.exec(qs.stdout)?.[1];
  const accountPassword = /login mjl@example\.mcove: (\S+)/.exec(qs.stdout)?.[1];
  assert.ok(adminPassword && accountPassword, qs.stdout);
  assert.match(qs.stdout, /\[Service\][^]*ExecStart=.* serve --config /);
  assert.match(await readFile(join(dir, 'config/domains.conf'), 'utf8'), /sign:\n\s+- \d{4}a\n\s+- \d{4}e/);
  assert.equal(((await stat(join(dir, 'config/adminpasswd'))).mode & 0o777), 0o600);
  // A second run refuses to overwrite.
  process.chdir(dir);
  try {
    const again = await runArgv(['quickstart', 'mjl@example.mcove', '--skip-dial']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists; quickstart does not overwrite/);
  } finally {
    process.chdir(cwd);
  }

  const check = await runArgv(['config', 'test', '--config', staticPath]);
  assert.equal(check.code, 0, check.stdout + check.stderr);

  // The DNS records as printed (comments included) are a zone file for nsd; then dnscheck passes.
  const zone = qs.stdout.slice(qs.stdout.indexOf('DNS records to create'), qs.stdout.indexOf('A systemd unit')).split('\n').slice(1);
  const dns = await startDnsServers([{ name: 'example.mcove', records: zone }]);
  t.after(() => dns.stop());
  const unbound = dns.resolver.servers[0]!;
  await writeFile(staticPath, (await readFile(staticPath, 'utf8')) + `resolver: ['${unbound.host}:${unbound.port}']\n`);
  const dnscheck = await runArgv(['config', 'dnscheck', '--config', staticPath, 'example.mcove']);
  assert.equal(dnscheck.code, 0, dnscheck.stdout + dnscheck.stderr);

  // serve, on the configured ports raised by an offset.
  const ports = { smtp: 25, submission: 587, submissions: 465, imap: 143, imaps: 993, https: 443, admin: 1080, metrics: 8010 };
  const base = await freeBasePort(Object.values(ports), '0.0.0.0');
  const child = spawn(bin, ['serve', '--config', staticPath], { env: { ...process.env, [testPortOffsetEnv]: String(base), MAILCOVE_LOG_LEVEL: 'warn' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => void child.kill('SIGKILL'));
  const deadline = Date.now() + 30_000;
  while (!out.includes('ready;') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(out, /ready;/, `serve did not start: ${out}${err}`);
  assert.match(out, new RegExp(`smtp +0\\.0\\.0\\.0:${base + 25}`));

  const smtp = await SmtpTestClient.connect(base + ports.smtp);
  await smtp.expect(220, /mail\.example\.mcove/);
  await smtp.command('EHLO client.example', 250);
  await smtp.command('QUIT', 221);
  const login = await fetch(`http://127.0.0.1:${base + ports.admin}/admin/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: adminPassword }) });
  assert.equal(login.status, 200, 'the admin password printed by quickstart logs in');
  const metrics = await fetch(`http://127.0.0.1:${base + ports.metrics}/metrics`);
  assert.match(await metrics.text(), /mailcove_uncaught_errors_total\{protocol="smtp"\} 0/);
  if (root) {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    const nobody = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    assert.notEqual(nobody, 0, 'serve dropped root after binding');
    assert.equal((await stat(join(dir, 'data/auth.db'))).uid, nobody, 'the data folder belongs to the user');
  }

  const stop = await runArgv(['stop', '--config', staticPath]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, /stopping\nstopped\n/);
  assert.equal(await exited, 0, err);
  assert.match(out, /stopped\n$/);
});

test('quickstart --existing-webserver: certificates from files, the account page behind the other web server; config test passes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-qs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cwd = process.cwd();
  process.chdir(dir);
  let qs;
  try {
    qs = await runArgv(['quickstart', 'you@example.mcove', '--hostname', 'mx.example.mcove', '--existing-webserver', '--skip-dial']);
  } finally {
    process.chdir(cwd);
  }
  assert.equal(qs.code, 0, qs.stderr);
  const text = await readFile(join(dir, 'config/mailcove.conf'), 'utf8');
  assert.match(text, /certFile: \/etc\/letsencrypt\/live\/mx\.example\.mcove\/fullchain\.pem/);
  assert.doesNotMatch(text, /acme:/);
  assert.match(text, /accountHTTP:\n\s+port: 1080\n\s+path: \/\n\s+forwarded: true/);
  assert.match(qs.stdout, /proxy https:\/\/mx\.example\.mcove\/ to http:\/\/127\.0\.0\.1:1080\//);
  const check = await runArgv(['config', 'test', '--config', join(dir, 'config/mailcove.conf')]);
  assert.equal(check.code, 0, check.stdout + check.stderr);
});
