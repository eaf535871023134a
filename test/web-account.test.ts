// The account page over HTTP (issue 6): sessions, cookie attributes, CSRF, the failed-login
// limit and security headers on this surface, then each of its features through its real
// API: password change, full name, TLS public keys, login history, export and import.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { ImapTestClient } from '../src/imapserver/testclient.ts';
import { publicKeyFingerprint } from '../src/tls/index.ts';
import type { AccountApi, AccountInfo, ImportEvent, ImportStatus, LoginHistoryEntry, MailboxSummary, TlsKeyInfo } from '../src/webaccount/index.ts';
import { accountFixture, testPassword, type AccountFixture, type Login } from '../src/webaccount/testfixture.ts';
import { opensslSteps } from '../web/account/openssl.ts';

const run = promisify(execFile);

// Every method of the API, checked against its type: a new method fails to compile here until listed.
const everyMethod: Record<keyof AccountApi, Record<string, unknown>> = {
  account: {},
  setFullName: { fullName: 'x' },
  changePassword: { current: 'x', password: 'xxxxxxxxxx' },
  tlsPublicKeys: {},
  addTlsPublicKey: { certificate: 'x', loginAddress: 'mjl@example.com' },
  removeTlsPublicKey: { fingerprint: 'x' },
  loginHistory: {},
  mailboxes: {},
  export: { format: 'mbox', archive: 'zip' },
  importStatus: {},
};

/** Polls cond until it holds; fails after ms. */
async function until(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function withFixture(f: (a: AccountFixture) => Promise<void>, o: Parameters<typeof accountFixture>[0] = {}): Promise<void> {
  const a = await accountFixture(o);
  try {
    await f(a);
  } finally {
    await a.done();
  }
}

const message = (subject: string) => Buffer.from(`From: mjl@example.com\r\nTo: mjl@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.com>\r\n\r\nBody of ${subject}.\r\n`);

async function deliver(a: AccountFixture, mailbox: string, subjects: string[]): Promise<void> {
  const acc = await a.store.openAccount('mjl');
  try {
    if (!(await acc.listMailboxes()).some((m) => m.name === mailbox)) await acc.createMailbox(mailbox);
    for (const s of subjects) await acc.append(mailbox, { data: message(s) });
  } finally {
    await acc.close();
  }
}

test('no account method, upload or event stream answers without a session: 401 user:noAuth', async () => {
  await withFixture(async (a) => {
    for (const [name, body] of Object.entries(everyMethod)) {
      const r = await a.call(name, body);
      assert.equal(r.status, 401, name);
      assert.deepEqual(r.json(), { code: 'user:noAuth', message: 'no session, or session expired; log in' }, name);
    }
    const logout = await a.call('logout', {});
    assert.equal(logout.status, 401);
    const upload = await a.request('POST', '/import', { headers: { 'content-type': 'application/octet-stream' }, body: 'x' });
    assert.equal(upload.status, 401);
    assert.equal(upload.json<{ code: string }>().code, 'user:noAuth');
    const events = await a.request('GET', '/events/import?id=x');
    assert.equal(events.status, 401);
    const forged = await a.call('account', {}, { cookie: 'mailcove-account=AAAAAAAAAAAAAAAAAAAAAA', csrf: 'x' });
    assert.equal(forged.status, 401);
  });
});

test('login sets the session cookie HttpOnly, SameSite=Strict, Path=/, by address or account name', async () => {
  await withFixture(async (a) => {
    const r = await a.call('login', { username: 'mjl@example.com', password: testPassword });
    assert.equal(r.status, 200);
    assert.equal(r.json<{ account: string }>().account, 'mjl');
    const cookies = r.headers['set-cookie']!;
    assert.equal(cookies.length, 1);
    assert.match(cookies[0]!, /^mailcove-account=[A-Za-z0-9_-]{22}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/); // not Secure over plain HTTP
    const byName = await a.call('login', { username: 'mjl', password: testPassword });
    assert.equal(byName.status, 200);
    const sub = await a.call('login', { username: 'mjl+news@example.com', password: testPassword }); // RFC 5233 sub-address of the account
    assert.equal(sub.status, 200);
    const wrong = await a.call('login', { username: 'mjl@example.com', password: 'wrong' });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.json(), { code: 'user:badAuth', message: 'wrong username or password' });
    assert.equal(wrong.headers['set-cookie'], undefined);
  });
});

test('a call needs the CSRF token: without the header 403, with it 200; a form post carries it as a field', async () => {
  await withFixture(async (a) => {
    const login = await a.login();
    const without = await a.call('account', {}, undefined, { cookie: login.cookie });
    assert.equal(without.status, 403);
    assert.equal(without.json<{ code: string }>().code, 'user:noAuth');
    const wrong = await a.call('account', {}, { cookie: login.cookie, csrf: 'A'.repeat(22) });
    assert.equal(wrong.status, 403);
    const ok = await a.call('account', {}, login);
    assert.equal(ok.status, 200);
    assert.equal(ok.json<AccountInfo>().name, 'mjl');
    // The upload route checks the header as the API does.
    const upload = await a.request('POST', '/import', { headers: { cookie: login.cookie, 'content-type': 'application/octet-stream' }, body: 'x' });
    assert.equal(upload.status, 403);
    // The export download is a form post: the token is the csrf field.
    const form = (fields: Record<string, string>) => a.request('POST', '/api/export', { headers: { cookie: login.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    assert.equal((await form({ format: 'mbox', archive: 'zip' })).status, 403);
    const download = await form({ format: 'mbox', archive: 'zip', csrf: login.csrf });
    assert.equal(download.status, 200);
    assert.equal(download.headers['content-type'], 'application/zip');
  });
});

test('after N failed logins from a network, logins are refused with 429, even with the right password', async () => {
  await withFixture(async (a) => {
    for (let i = 0; i < 3; i++) assert.equal((await a.call('login', { username: 'mjl@example.com', password: `wrong${i}` })).status, 401);
    const limited = await a.call('login', { username: 'mjl@example.com', password: testPassword });
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.json(), { code: 'user:error', message: 'too many failed logins, try again later' });
    assert.equal(limited.headers['set-cookie'], undefined);
    const results = async () => (await a.store.auth.listLoginAttempts({ account: 'mjl', limit: 10 })).map((h) => h.result);
    await until(async () => (await results()).length === 4); // written through the store's group commit
    assert.deepEqual(await results(), ['ratelimited', 'badauth', 'badauth', 'badauth']);
  }, { loginFailureLimit: 3 });
});

test('the page, its script and style, API answers and event streams carry the security headers', async () => {
  await withFixture(async (a) => {
    const login = await a.login();
    const page = await a.request('GET', '/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    const html = page.body.toString();
    assert.match(html, /<script src="app.js" defer><\/script>/);
    assert.match(html, /<link rel="stylesheet" href="app.css">/);
    assert.doesNotMatch(html, /<script>|style=/); // CSP: no inline script or style
    const js = await a.request('GET', '/app.js');
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.match(js.body.toString(), /changePassword/);
    const css = await a.request('GET', '/app.css');
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.match(css.body.toString(), /\.fingerprint/); // the page's own stylesheet is in the bundle
    const api = await a.call('account', {}, login);
    const events = await a.request('GET', '/events/import?id=nosuch', { headers: { cookie: login.cookie } });
    assert.equal(events.status, 404);
    for (const r of [page, js, css, api, events]) {
      assert.match(String(r.headers['content-security-policy']), /default-src 'self'; script-src 'self'; style-src 'self'.*frame-ancestors 'none'/);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['referrer-policy'], 'same-origin');
      assert.equal(r.headers['x-frame-options'], 'DENY');
    }
    assert.equal(api.headers['cache-control'], 'no-store');
  });
});

test('changing the password needs the current one, ends the other sessions and keeps this one', async () => {
  await withFixture(async (a) => {
    const here = await a.login();
    const elsewhere = await a.login('mjl', testPassword);
    const wrong = await a.call('changePassword', { current: 'not it', password: 'new password 1' }, here);
    assert.equal(wrong.status, 400);
    assert.deepEqual(wrong.json(), { code: 'user:error', message: 'the current password is wrong' });
    const short = await a.call('changePassword', { current: testPassword, password: 'short' }, here);
    assert.equal(short.status, 400);
    assert.match(short.json<{ message: string }>().message, /at least 8 characters/);
    assert.equal((await a.call('account', {}, elsewhere)).status, 200); // nothing changed yet

    const ok = await a.call('changePassword', { current: testPassword, password: 'new password 1' }, here);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json(), { endedSessions: 1 });
    const old = await a.call('account', {}, elsewhere);
    assert.equal(old.status, 401);
    assert.equal(old.json<{ code: string }>().code, 'user:noAuth');
    assert.equal((await a.call('account', {}, here)).status, 200);
    assert.equal((await a.call('login', { username: 'mjl', password: testPassword })).status, 401);
    assert.equal((await a.call('login', { username: 'mjl', password: 'new password 1' })).status, 200);
  });
});

test('a wrong current password counts as a failed login', async () => {
  await withFixture(async (a) => {
    const login = await a.login();
    for (let i = 0; i < 3; i++) assert.equal((await a.call('changePassword', { current: `guess${i}`, password: 'new password 1' }, login)).status, 400);
    const limited = await a.call('changePassword', { current: testPassword, password: 'new password 1' }, login);
    assert.equal(limited.status, 429);
  }, { loginFailureLimit: 3 });
});

test('the full name is written to domains.conf and shown; control characters are refused; empty removes it', async () => {
  await withFixture(async (a) => {
    const login = await a.login();
    const r = await a.call('setFullName', { fullName: '  Mechiel Lukkien ' }, login);
    assert.deepEqual(r.json(), { fullName: 'Mechiel Lukkien' });
    assert.match(await readFile(a.config.paths.domains, 'utf8'), /^ {4}fullName: Mechiel Lukkien$/m);
    assert.equal(a.domains.current().accounts['mjl']!.fullName, 'Mechiel Lukkien'); // live at once
    assert.equal((await a.call('account', {}, login)).json<AccountInfo>().fullName, 'Mechiel Lukkien');
    const bad = await a.call('setFullName', { fullName: 'Evil\r\nBcc: x@example.com' }, login);
    assert.equal(bad.status, 400);
    assert.equal((await a.call('setFullName', { fullName: '' }, login)).status, 200);
    assert.doesNotMatch(await readFile(a.config.paths.domains, 'utf8'), /fullName/);
  });
});

test('account shows the name, addresses (catch-all marked) and quota usage', async () => {
  await withFixture(async (a) => {
    await deliver(a, 'INBOX', ['one', 'two']);
    const info = (await a.call('account', {}, await a.login())).json<AccountInfo>();
    assert.equal(info.name, 'mjl');
    assert.deepEqual(info.addresses, [
      { address: 'mjl@example.com', catchall: false },
      { address: 'postmaster@example.com', catchall: false },
      { address: '@example.org', catchall: true },
    ]);
    assert.equal(info.quota.used, message('one').length + message('two').length);
    assert.equal(info.quota.limit, null);
    assert.match(info.passwordChanged, /^\d{4}-\d\d-\d\dT/);
  });
});

test('TLS public keys made with the page\'s openssl commands are added, listed and removed', async () => {
  await withFixture(async (a) => {
    const dir = await mkdtemp(join(tmpdir(), 'mailcove-openssl-'));
    try {
      const login = await a.login();
      const steps = opensslSteps('mjl@example.com');
      // Both key commands of the first step: ed25519, then RSA (each followed by the certificate).
      const certs: string[] = [];
      for (const keyCommand of steps[0]!.commands) {
        await rm(join(dir, 'key.pem'), { force: true });
        for (const cmd of [keyCommand, ...steps[1]!.commands]) await run('sh', ['-c', cmd], { cwd: dir });
        certs.push(await readFile(join(dir, 'cert.pem'), 'utf8'));
      }
      await run('sh', ['-c', steps[2]!.commands[0]!.replace('-out', '-passout pass:secret -out')], { cwd: dir }); // the .p12 step works too
      assert.ok((await readFile(join(dir, 'key.p12'))).length > 0);

      const added = await a.call('addTlsPublicKey', { certificate: certs[0], loginAddress: 'mjl@example.com', name: 'laptop', noIMAPPreauth: true }, login);
      assert.equal(added.status, 200, added.body.toString());
      const key = added.json<TlsKeyInfo>();
      assert.equal(key.fingerprint, publicKeyFingerprint(new X509Certificate(certs[0]!)));
      assert.deepEqual({ name: key.name, loginAddress: key.loginAddress, noIMAPPreauth: key.noIMAPPreauth, keyType: key.keyType, subject: key.subject }, { name: 'laptop', loginAddress: 'mjl@example.com', noIMAPPreauth: true, keyType: 'ed25519', subject: 'CN=mjl@example.com' });
      // Without a name, the certificate's CN; the address in any case form is stored canonical.
      const rsa = await a.call('addTlsPublicKey', { certificate: `some text before\n${certs[1]}`, loginAddress: 'Postmaster@Example.com' }, login);
      assert.equal(rsa.status, 200, rsa.body.toString());
      assert.deepEqual([rsa.json<TlsKeyInfo>().name, rsa.json<TlsKeyInfo>().loginAddress, rsa.json<TlsKeyInfo>().keyType], ['mjl@example.com', 'postmaster@example.com', 'rsa']);
      const list = (await a.call('tlsPublicKeys', {}, login)).json<TlsKeyInfo[]>();
      assert.deepEqual(list.map((k) => k.name), ['laptop', 'mjl@example.com']);
      assert.deepEqual((await a.store.auth.getTlsPublicKey(key.fingerprint))?.account, 'mjl');

      const refusals: Array<[Record<string, unknown>, RegExp]> = [
        [{ certificate: certs[0], loginAddress: 'mjl@example.com' }, /already registered as "laptop"/],
        [{ certificate: 'garbage', loginAddress: 'mjl@example.com' }, /not a PEM certificate/],
        [{ certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', loginAddress: 'mjl@example.com' }, /cannot be read/],
        [{ certificate: certs[0], loginAddress: 'someone@example.org' }, /not an address of this account/], // the catch-all
        [{ certificate: certs[0], loginAddress: 'other@example.com' }, /not an address of this account/],
      ];
      for (const [body, message] of refusals) {
        const r = await a.call('addTlsPublicKey', body, login);
        assert.equal(r.status, 400);
        assert.match(r.json<{ message: string }>().message, message);
      }

      // Another account neither sees nor removes mjl's keys.
      const other = await a.login('other@example.com');
      assert.deepEqual((await a.call('tlsPublicKeys', {}, other)).json(), []);
      assert.equal((await a.call('removeTlsPublicKey', { fingerprint: key.fingerprint }, other)).status, 400);

      assert.equal((await a.call('removeTlsPublicKey', { fingerprint: key.fingerprint }, login)).status, 200);
      assert.deepEqual((await a.call('tlsPublicKeys', {}, login)).json<TlsKeyInfo[]>().map((k) => k.name), ['mjl@example.com']);
      assert.equal(await a.store.auth.getTlsPublicKey(key.fingerprint), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

test('the login history shows IMAP and web logins, failed and successful, newest first', async () => {
  await withFixture(async (a) => {
    const imap = await ImapTestClient.connect(a.imapPort());
    try {
      assert.match((await imap.run('LOGIN mjl@example.com "wrong password"')).tagged, /^NO /);
      assert.match((await imap.run(`LOGIN mjl@example.com "${testPassword}"`)).tagged, /^OK /);
    } finally {
      imap.close();
    }
    assert.equal((await a.call('login', { username: 'mjl@example.com', password: 'wrong' })).status, 401);
    const login = await a.login();
    const wanted = [['web-account', 'password', 'ok'], ['web-account', 'password', 'badauth'], ['imap', 'LOGIN', 'ok'], ['imap', 'LOGIN', 'badauth']];
    const list = async () => (await a.call('loginHistory', {}, login)).json<LoginHistoryEntry[]>();
    await until(async () => (await list()).length === 4); // written through the store's group commit
    const history = await list();
    assert.deepEqual(history.map((h) => [h.protocol, h.mechanism, h.result]), wanted);
    for (const h of history) {
      assert.equal(h.ip, '127.0.0.1');
      assert.equal(h.username, 'mjl@example.com');
      assert.equal(h.tls, '');
    }
    const page = (await a.call('loginHistory', { limit: 2, before: history[1]!.id }, login)).json<LoginHistoryEntry[]>();
    assert.deepEqual(page.map((h) => h.id), [history[2]!.id, history[3]!.id]);
    const other = await a.login('other@example.com');
    assert.deepEqual((await a.call('loginHistory', {}, other)).json<LoginHistoryEntry[]>().map((h) => h.username), ['other@example.com']); // only its own
  }, { imap: true });
});

test('export streams a zip of mbox files (python3 -m zipfile lists it) and a tgz of maildirs; an unknown mailbox is a JSON error', async () => {
  await withFixture(async (a) => {
    await deliver(a, 'INBOX', ['first', 'second']);
    await deliver(a, 'Archive', ['old']);
    const login = await a.login();
    const boxes = (await a.call('mailboxes', {}, login)).json<MailboxSummary[]>();
    assert.deepEqual(boxes.filter((b) => b.messages > 0).map((b) => [b.name, b.messages]).sort(), [['Archive', 1], ['INBOX', 2]]);
    const dir = await mkdtemp(join(tmpdir(), 'mailcove-export-'));
    try {
      const form = (fields: Record<string, string>) => a.request('POST', '/api/export', { headers: { cookie: login.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, csrf: login.csrf }).toString() });
      const today = new Date().toISOString().slice(0, 10);

      const zip = await form({ mailbox: '', format: 'mbox', archive: 'zip' });
      assert.equal(zip.status, 200);
      assert.equal(zip.headers['content-disposition'], `attachment; filename="mjl-${today}.zip"`);
      assert.equal(zip.headers['transfer-encoding'], 'chunked'); // streamed: no length known up front
      await writeFile(join(dir, 'export.zip'), zip.body);
      const listing = (await run('python3', ['-m', 'zipfile', '-l', join(dir, 'export.zip')])).stdout;
      assert.match(listing, /INBOX\.mbox/);
      assert.match(listing, /Archive\.mbox/);
      await run('python3', ['-m', 'zipfile', '-t', join(dir, 'export.zip')]);
      const extracted = join(dir, 'zip');
      await run('python3', ['-m', 'zipfile', '-e', join(dir, 'export.zip'), extracted]);
      const inbox = await readFile(join(extracted, (await run('sh', ['-c', 'find . -name INBOX.mbox'], { cwd: extracted })).stdout.trim()), 'utf8');
      assert.equal(inbox.match(/^From /gm)?.length, 2);
      assert.match(inbox, /Subject: first\n/);

      const tgz = await form({ mailbox: 'Archive', format: 'maildir', archive: 'tgz' });
      assert.equal(tgz.status, 200);
      assert.equal(tgz.headers['content-type'], 'application/gzip');
      assert.equal(tgz.headers['content-disposition'], `attachment; filename="mjl-Archive-${today}.tgz"`);
      await writeFile(join(dir, 'export.tgz'), tgz.body);
      const files = (await run('tar', ['tzf', join(dir, 'export.tgz')])).stdout.split('\n').filter(Boolean);
      assert.equal(files.filter((f) => /Archive\/cur\/[^/]+$/.test(f)).length, 1, files.join('\n'));
      assert.ok(!files.some((f) => f.includes('INBOX')));

      const missing = await form({ mailbox: 'Nope', format: 'mbox', archive: 'zip' });
      assert.equal(missing.status, 400);
      assert.equal(missing.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(missing.headers['content-disposition'], undefined);
      assert.equal(missing.json<{ code: string }>().code, 'user:error');
      const badFormat = await form({ format: 'pst', archive: 'zip' });
      assert.equal(badFormat.status, 400);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** POSTs an archive to the upload route. */
function upload(a: AccountFixture, login: Login, body: Buffer, name = 'mail.zip') {
  return a.request('POST', `/import?name=${encodeURIComponent(name)}`, { headers: { cookie: login.cookie, 'x-mailcove-csrf': login.csrf, 'content-type': 'application/octet-stream' }, body });
}

test('import: the upload is stored, imported in the background, progress and the result (with a per-file error) come over SSE', async () => {
  await withFixture(async (a) => {
    const login = await a.login();
    const mbox = Buffer.from(['From a@example.com Mon Jan  1 00:00:00 2024', 'Subject: mbox one', '', 'one', '', 'From b@example.com Mon Jan  1 00:00:01 2024', 'Subject: mbox two', '', 'two', ''].join('\n'));
    const archive = Buffer.from(zipSync({
      'Friends.mbox': mbox,
      'Work/cur/1700000000.1.host:2,S': Buffer.from('Subject: maildir one\r\n\r\nhi\r\n'),
      'notes.mbox': Buffer.from('this is not an mbox file\n'),
    }));
    const r = await upload(a, login, archive);
    assert.equal(r.status, 200, r.body.toString());
    const { id } = r.json<{ id: string }>();
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);

    const stream = await a.events(`/events/import?id=${id}`, { cookie: login.cookie });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers['content-type'], 'text/event-stream; charset=utf-8');
    const last = stream.events.at(-1)!;
    assert.equal(last.event, 'done', JSON.stringify(stream.events));
    for (const e of stream.events.slice(0, -1)) assert.equal(e.event, 'progress');
    const result = (last.data as Extract<ImportEvent, { type: 'done' }>).result;
    assert.equal(result.imported, 3, JSON.stringify(result));
    assert.deepEqual(result.mailboxes, ['Friends', 'Work']);
    assert.deepEqual(result.errors.map((e) => e.file), ['notes.mbox']);
    assert.equal(result.fatal, undefined);

    const acc = await a.store.openAccount('mjl');
    try {
      assert.equal((await acc.mailboxStatus('Friends')).total, 2);
      const work = await acc.messageMeta('Work');
      assert.equal(work.length, 1);
      assert.deepEqual(work[0]!.flags, ['\\Seen']);
    } finally {
      await acc.close();
    }
    // Status for a reloaded page; a finished import's events are the result at once.
    const status = (await a.call('importStatus', {}, login)).json<{ import: ImportStatus }>().import;
    assert.deepEqual([status.id, status.state, status.fileName, status.size], [id, 'done', 'mail.zip', archive.length]);
    const again = await a.events(`/events/import?id=${id}`, { cookie: login.cookie });
    assert.deepEqual(again.events.map((e) => e.event), ['done']);
    // The upload is gone from the data dir's tmp folder.
    assert.deepEqual((await run('find', [join(a.config.paths.dataDir, 'tmp', 'webimport'), '-type', 'f'])).stdout, '');
    // Another account's session does not see the import.
    const other = await a.login('other@example.com');
    assert.equal((await a.events(`/events/import?id=${id}`, { cookie: other.cookie })).status, 404);
    assert.deepEqual((await a.call('importStatus', {}, other)).json(), { import: null });
  });
});

test('import: one at a time per account (409 while an upload is under way); over the size limit 413; empty refused', async () => {
  await withFixture(async (a) => {
    const login = await a.login();
    // An upload that has sent its headers and part of its body holds the account's slot.
    const slowBody = Buffer.from('From a@example.com Mon Jan  1 00:00:00 2024\nSubject: slow\n\nslow\n');
    const slow = request({ host: '127.0.0.1', port: a.port, method: 'POST', path: '/import', agent: false, headers: { cookie: login.cookie, 'x-mailcove-csrf': login.csrf, 'content-type': 'application/octet-stream', 'content-length': String(slowBody.length) } });
    const slowResponse = new Promise<number>((resolve, reject) => {
      slow.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      slow.on('error', reject);
    });
    slow.write(slowBody.subarray(0, 20));
    const uploads = join(a.config.paths.dataDir, 'tmp', 'webimport');
    await until(async () => (await readdir(uploads)).length === 1); // the upload is being stored: the slot is taken
    const busy = await upload(a, login, Buffer.from('x'));
    assert.equal(busy.status, 409);
    assert.match(busy.json<{ message: string }>().message, /already running/);
    slow.end(slowBody.subarray(20));
    assert.equal(await slowResponse, 200);

    const huge = await a.request('POST', '/import', { headers: { cookie: login.cookie, 'x-mailcove-csrf': login.csrf, 'content-type': 'application/octet-stream', 'content-length': String(2 * 1024 ** 3) } });
    assert.equal(huge.status, 413);
    assert.match(huge.json<{ message: string }>().message, /too large \(at most 1 GiB\)/);
    // Once the slow one's import has ended, an empty body is refused.
    await until(async () => (await a.call('importStatus', {}, login)).json<{ import: ImportStatus }>().import.state !== 'running');
    const empty = await upload(a, login, Buffer.alloc(0));
    assert.equal(empty.status, 400);
    assert.equal(empty.json<{ message: string }>().message, 'the file is empty');
  });
});

test('import: a long import sends progress events (messages done, fraction of the file read) before done', async () => {
  await withFixture(async (a) => {
    const login = await a.login();
    const n = 600; // about a second and a half: several 200 ms progress intervals
    const mbox = Buffer.from(Array.from({ length: n }, (_, i) => `From a@example.com Mon Jan  1 00:00:00 2024\nSubject: bulk ${i}\nMessage-ID: <bulk${i}@example.com>\n\nmessage ${i}\n`).join('\n'));
    const r = await upload(a, login, mbox, 'Bulk.mbox'); // a single mbox file: its name names the mailbox
    assert.equal(r.status, 200, r.body.toString());
    const stream = await a.events(`/events/import?id=${r.json<{ id: string }>().id}`, { cookie: login.cookie });
    const progress = stream.events.filter((e) => e.event === 'progress').map((e) => (e.data as Extract<ImportEvent, { type: 'progress' }>).progress);
    assert.ok(progress.length >= 2, JSON.stringify(stream.events.slice(0, 3)));
    for (const [i, p] of progress.entries()) {
      assert.ok(p.fraction >= 0 && p.fraction <= 1);
      if (i > 0) assert.ok(p.done >= progress[i - 1]!.done);
    }
    assert.ok(progress.some((p) => p.done > 0 && p.done < n));
    const done = stream.events.at(-1)!;
    assert.equal(done.event, 'done');
    assert.deepEqual((done.data as Extract<ImportEvent, { type: 'done' }>).result, { mailboxes: ['Bulk'], imported: n, errors: [] });
  });
});

test('import: archive paths with ".." name no mailbox: each such file is reported in the result, the rest imports', async () => {
  await withFixture(async (a) => {
    const login = await a.login();
    const mbox = (s: string) => Buffer.from(`From a@example.com Mon Jan  1 00:00:00 2024\nSubject: ${s}\n\n${s}\n`);
    const archive = Buffer.from(zipSync({ '../../Escaped.mbox': mbox('escaped'), 'Inside/../../Up/cur/1.host:2,S': mbox('up'), 'Kept.mbox': mbox('kept') }));
    const r = await upload(a, login, archive);
    assert.equal(r.status, 200, r.body.toString());
    const stream = await a.events(`/events/import?id=${r.json<{ id: string }>().id}`, { cookie: login.cookie });
    const result = (stream.events.at(-1)!.data as Extract<ImportEvent, { type: 'done' }>).result;
    assert.equal(result.imported, 1);
    assert.deepEqual(result.mailboxes, ['Kept']);
    assert.deepEqual(result.errors.map((e) => e.file).sort(), ['../../Escaped.mbox', 'Inside/../../Up/cur/1.host:2,S']);
    for (const e of result.errors) assert.match(e.message, /"\.\." level: not imported/);
    const names = (await a.call('mailboxes', {}, login)).json<MailboxSummary[]>().map((m) => m.name);
    assert.ok(names.includes('Kept'));
    assert.ok(!names.some((n) => n.includes('..') || n === 'Escaped' || n === 'Up'), names.join(', '));
  });
});

test('import: at most 8 event streams per account follow a running import; the 9th is 429 until one closes', async () => {
  await withFixture(async (a) => {
    const login = await a.login();
    const n = 1500; // a few seconds of import: the streams below open well within it
    const mbox = Buffer.from(Array.from({ length: n }, (_, i) => `From a@example.com Mon Jan  1 00:00:00 2024\nSubject: bulk ${i}\n\nmessage ${i}\n`).join('\n'));
    const r = await upload(a, login, mbox, 'Bulk.mbox');
    assert.equal(r.status, 200, r.body.toString());
    const path = `/events/import?id=${r.json<{ id: string }>().id}`;
    /** A GET that resolves at the response head; the stream stays open until destroyed. */
    const open = () => new Promise<{ status: number; headers: Record<string, unknown>; close(): void }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: a.port, path, headers: { cookie: login.cookie }, agent: false }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, close: () => req.destroy() });
      });
      req.on('error', reject);
      req.end();
    });
    const streams = [];
    for (let i = 0; i < 8; i++) streams.push(await open());
    assert.deepEqual(streams.map((s) => s.status), Array(8).fill(200));
    const refused = await open();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '20');
    assert.equal((await a.call('importStatus', {}, login)).json<{ import: ImportStatus }>().import.state, 'running', 'the import outlasted the streams: the 429 was the limit');
    streams.pop()!.close();
    let again = await open();
    for (const deadline = Date.now() + 5000; again.status === 429 && Date.now() < deadline; again = await open()) await new Promise((r) => setTimeout(r, 20)); // the server sees the close
    assert.equal(again.status, 200);
    for (const s of [...streams, again]) s.close();
    await until(async () => (await a.call('importStatus', {}, login)).json<{ import: ImportStatus }>().import.state === 'done', 30_000);
  });
});
