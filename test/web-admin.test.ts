// The admin API over real HTTP: the admin password and session with CSRF token in front of
// every method, config edits landing in domains.conf and the live config at once, DNS
// records and the DNS check, account credentials, queue operations on a real Queue,
// login attempts and log levels.
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { cliDomainsText, cliStaticText } from '../src/cli/testrun.ts';
import { MemoryResolver } from '../src/dns/index.ts';
import { publish } from '../src/dnsrecords/testfixture.ts';
import { startHttp } from '../src/http/index.ts';
import { getLevels, setLevel } from '../src/log/index.ts';
import { Queue } from '../src/queue/index.ts';
import { authFailureLimiter, isStoredCredentials, setAdminPassword, verifyPassword } from '../src/sasl/index.ts';
import { AccountCache } from '../src/smtpserver/index.ts';
import { adminSurface, type AdminApi } from '../src/webadmin/index.ts';
import { adminApi } from '../src/webadmin/api.ts';
import { DataRemovals } from '../src/webadmin/accounts.ts';
import type { ApiRequest, ApiResponse } from '../src/http/index.ts';
import { serverDir, type ServerDir } from './serverdir.ts';
import { waitFor } from './waitfor.ts';

const adminPassword = 'correct horse battery staple';
const day = 24 * 3600_000;

interface Reply { status: number; body: unknown }

interface AdminFixture {
  sd: ServerDir;
  resolver: MemoryResolver;
  queue: Queue | undefined;
  base: string;
  post(method: string, body: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** Logs in with the admin password; later call()s use the session. */
  login(password?: string): Promise<{ cookie: string; csrf: string }>;
  /** A typed API call with the session; throws on an error reply. */
  call<N extends keyof AdminApi & string>(name: N, input: ApiRequest<AdminApi[N]>): Promise<ApiResponse<AdminApi[N]>>;
  /** An API call with the session that must fail: its error reply. */
  refused(name: keyof AdminApi & string, input: unknown): Promise<{ status: number; code: string; message: string }>;
  domainsText(): Promise<string>;
  /** Queues a message from mjl@example.com, due in a day (so nothing is delivered); returns its queue entry ids. */
  enqueue(to: string[]): Promise<number[]>;
}

async function adminFixture(t: TestContext, o: { queue?: boolean } = {}): Promise<AdminFixture> {
  const sd = await serverDir({ prefix: 'mailcove-webadmin-', static: cliStaticText, domains: cliDomainsText, password: 'accountpw' });
  const configDir = sd.dir;
  await setAdminPassword(configDir, sd.config.static, adminPassword);
  const resolver = new MemoryResolver();
  const accounts = new AccountCache(sd.store, 0);
  const queue = o.queue === false ? undefined : Queue.start({ store: sd.store, static: sd.config.static, configDir, domains: () => sd.domains.current(), resolver, accounts });
  const authFailures = authFailureLimiter({ delayMs: 0, limits: [{ windowMs: 60_000, limits: [100, 1000, 1000] }] });
  const admin = await adminSurface({ config: sd.config, store: sd.store, domains: () => sd.domains.current(), authFailures, resolver, ...(queue ? { queue } : {}), version: 'v0.0.0-test', startedAt: new Date(Date.now() - 90_000) });
  const servers = await startHttp({ listeners: [{ ip: '127.0.0.1', port: 0, surfaces: [{ path: '/admin/', handler: admin.handler }] }] });
  t.after(async () => {
    await servers.close();
    await admin.close();
    await queue?.stop();
    await accounts.close();
    await sd.remove();
  });
  const base = `http://127.0.0.1:${servers.addresses[0]!.port}/admin/`;
  let session: { cookie: string; csrf: string } | undefined;
  const post = async (method: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
    const r = await fetch(`${base}api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() };
  };
  const withSession = (): Record<string, string> => (session ? { cookie: session.cookie, 'x-mailcove-csrf': session.csrf } : {});
  const f: AdminFixture = {
    sd, resolver, queue, base, post,
    async login(password = adminPassword) {
      const r = await fetch(`${base}api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
      assert.equal(r.status, 200, await r.clone().text());
      const cookie = r.headers.getSetCookie()[0]!.split(';')[0]!;
      session = { cookie, csrf: ((await r.json()) as { csrfToken: string }).csrfToken };
      return session;
    },
    async call(name, input) {
      const r = await post(name, input, withSession());
      assert.equal(r.status, 200, `${name}: ${JSON.stringify(r.body)}`);
      return r.body as ApiResponse<AdminApi[typeof name]>;
    },
    async refused(name, input) {
      const r = await post(name, input, withSession());
      assert.notEqual(r.status, 200, `${name} should have been refused`);
      return { status: r.status, ...(r.body as { code: string; message: string }) };
    },
    domainsText: () => readFile(join(configDir, 'domains.conf'), 'utf8'),
    async enqueue(to) {
      const m = await sd.store.queue.addData({
        account: 'mjl', mailFrom: 'mjl@example.com', smtputf8: false, body: '8BITMIME', requireTLS: null,
        recipients: to.map((address) => ({ address, domain: address.slice(address.indexOf('@') + 1) })),
        nextAttempt: new Date(Date.now() + day), extra: {}, data: Buffer.from(`From: <mjl@example.com>\r\nTo: <${to[0]}>\r\nSubject: queued\r\n\r\nHello\r\n`),
      });
      return m.recipients.map((r) => r.id);
    },
  };
  return f;
}

test('no admin API method answers without a session: each is 401 user:noAuth', async (t) => {
  const f = await adminFixture(t);
  const names = Object.keys(adminApi({} as never, new DataRemovals(f.sd.store, () => f.sd.domains.current())));
  assert.ok(names.length > 40, `only ${names.length} methods`);
  for (const name of [...names, 'logout']) {
    const r = await f.post(name, {});
    assert.equal(r.status, 401, name);
    assert.equal((r.body as { code: string }).code, 'user:noAuth', name);
  }
  // A session cookie from another surface or a made-up one does not help.
  const r = await f.post('overview', {}, { cookie: 'mailcove-admin=AAAAAAAAAAAAAAAAAAAAAA', 'x-mailcove-csrf': 'x' });
  assert.equal(r.status, 401);
});

test('a wrong admin password is user:badAuth and recorded; the right one gives a session', async (t) => {
  const f = await adminFixture(t);
  const bad = await f.post('login', { username: 'admin', password: 'wrong' });
  assert.equal(bad.status, 401);
  assert.deepEqual(bad.body, { code: 'user:badAuth', message: 'wrong username or password' });
  await f.login();
  const o = await f.call('overview', {});
  assert.equal(o.version, 'v0.0.0-test');
  assert.equal(o.hostname, 'mail.example.com');
  assert.ok(o.uptimeSeconds >= 90);
  assert.deepEqual(o.counts, { domains: 1, accounts: 2, aliases: 0, queued: 0, held: 0 });
  const attempts = await waitFor('both logins recorded', async () => {
    const r = await f.call('loginAttempts', { limit: 10 });
    return r.attempts.length >= 2 ? r.attempts : undefined;
  });
  assert.deepEqual(attempts.map((a) => [a.protocol, a.account, a.username, a.result, a.mechanism]), [['web-admin', '', 'admin', 'ok', 'password'], ['web-admin', '', 'admin', 'badauth', 'password']]);
  assert.equal(attempts[0]!.ip, '127.0.0.1');
  const page1 = await f.call('loginAttempts', { limit: 1 });
  assert.equal(page1.more, true);
  const page2 = await f.call('loginAttempts', { limit: 1, before: page1.attempts[0]!.id });
  assert.deepEqual(page2.attempts.map((a) => a.result), ['badauth']);
  assert.equal(page2.more, false);
});

test('the CSRF token is required: a call with only the cookie fails, with the header it succeeds', async (t) => {
  const f = await adminFixture(t);
  const { cookie, csrf } = await f.login();
  const without = await f.post('domains', {}, { cookie });
  assert.equal(without.status, 403);
  assert.equal((without.body as { code: string }).code, 'user:noAuth');
  const wrong = await f.post('domains', {}, { cookie, 'x-mailcove-csrf': csrf.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) });
  assert.equal(wrong.status, 403);
  const ok = await f.post('domains', {}, { cookie, 'x-mailcove-csrf': csrf });
  assert.equal(ok.status, 200);
  assert.deepEqual((ok.body as Array<{ name: string }>).map((d) => d.name), ['example.com']);
});

test('the page and its script are served, the page only loading them (no inline script)', async (t) => {
  const f = await adminFixture(t);
  const page = await fetch(f.base);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<script src="app.js" defer><\/script>/);
  assert.doesNotMatch(html, /<script>|style=/);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const js = await fetch(`${f.base}app.js`);
  assert.equal(js.status, 200);
  assert.match(await js.text(), /Mailcove admin/);
  assert.equal((await fetch(`${f.base}app.css`)).status, 200);
});

test('domains: add with separators, settings, catch-all, remove; each in domains.conf and the live config at once', async (t) => {
  const f = await adminFixture(t);
  await f.login();
  assert.deepEqual(await f.call('domainAdd', { name: 'Bücher.Example', separators: ['-'], description: 'books' }), { name: 'bücher.example' });
  assert.ok(f.sd.domains.current().domains['bücher.example'], 'live config has the domain');
  assert.match(await f.domainsText(), /bücher\.example:\n\s+description: books\n\s+localpartCatchallSeparator: "?-"?/);
  const dup = await f.refused('domainAdd', { name: 'bücher.example' });
  assert.equal(dup.code, 'user:error');
  assert.match(dup.message, /^domains\.conf: domains\.bücher\.example: domain "bücher\.example" already exists$/);

  await f.call('domainSettings', { name: 'xn--bcher-kva.example', description: 'all books', separators: ['+', '-'] });
  let d = await f.call('domain', { name: 'bücher.example' });
  assert.equal(d.ascii, 'xn--bcher-kva.example');
  assert.equal(d.description, 'all books');
  assert.deepEqual(d.separators, ['+', '-']);
  await f.call('domainSettings', { name: 'bücher.example', separators: [] });
  assert.deepEqual((await f.call('domain', { name: 'bücher.example' })).separators, ['+'], 'back to the default');

  await f.call('addressAdd', { account: 'bob', address: 'bob@bücher.example' });
  await f.call('domainCatchallSet', { domain: 'bücher.example', account: 'mjl' });
  assert.ok(f.sd.domains.current().accounts['mjl']!.destinations['@bücher.example']);
  d = await f.call('domain', { name: 'bücher.example' });
  assert.equal(d.catchall, 'mjl');
  assert.deepEqual(d.addressList, [{ address: '@bücher.example', account: 'mjl' }, { address: 'bob@bücher.example', account: 'bob' }]);
  const inUse = await f.refused('domainRemove', { name: 'bücher.example' });
  assert.match(inUse.message, /still used by .*address "@bücher\.example" of account "mjl"/);
  await f.call('domainCatchallRemove', { domain: 'bücher.example' });
  await f.call('addressRemove', { address: 'bob@bücher.example' });
  await f.call('domainRemove', { name: 'bücher.example' });
  assert.equal(f.sd.domains.current().domains['bücher.example'], undefined);
  assert.doesNotMatch(await f.domainsText(), /bücher/);
  assert.match(await f.domainsText(), /^# domains for the CLI tests/, 'comments kept');
  assert.equal((await f.refused('domain', { name: 'nosuch.example' })).message, 'no domain "nosuch.example"');
  assert.match((await f.refused('domainAdd', { name: '' })).message, /^bad request: name: /);
});

test('DKIM: a generated key is written 0600 beside the config, signs at once and appears in the DNS records', async (t) => {
  const f = await adminFixture(t);
  await f.login();
  const g = await f.call('dkimGenerate', { domain: 'example.com', selector: '2026e', kind: 'ed25519', sign: true });
  assert.equal(g.file, 'dkim/2026e.example.com.ed25519.privatekey.pkcs8.pem');
  assert.match(g.record, /^v=DKIM1; k=ed25519; p=/);
  assert.equal((await stat(join(f.sd.dir, g.file))).mode & 0o777, 0o600);
  assert.deepEqual(f.sd.domains.current().domains['example.com']!.dkim?.sign, ['2026e']);
  const d = await f.call('domain', { name: 'example.com' });
  assert.deepEqual(d.dkim.map((s) => [s.selector, s.signing]), [['2026e', true]]);
  assert.match((await f.refused('dkimGenerate', { domain: 'example.com', selector: '2026e', kind: 'rsa', sign: false })).message, /selector "2026e" exists/);
  const badSelector = await f.refused('dkimGenerate', { domain: 'example.com', selector: 'bad_selector', kind: 'ed25519', sign: false });
  assert.deepEqual([badSelector.code, badSelector.message], ['user:error', 'domains.conf: domains.example.com.dkim.selectors: invalid selector "bad_selector"']); // RFC 6376 §3.1
  assert.deepEqual(Object.keys(f.sd.domains.current().domains['example.com']!.dkim!.selectors), ['2026e'], 'nothing added');
  assert.deepEqual(await readdir(join(f.sd.dir, 'dkim')), ['2026e.example.com.ed25519.privatekey.pkcs8.pem'], 'no key file for it');
  const r = await f.call('dnsRecords', { domain: 'example.com' });
  const dkim = r.records.find((s) => s.name === '2026e._domainkey.example.com');
  assert.equal(dkim?.type, 'TXT');
  assert.ok(dkim.value.includes(g.record.slice(-20)));
});

test('DNS records: zone lines and specs; the check says correct, missing or wrong with the expected value', async (t) => {
  const f = await adminFixture(t);
  await f.login();
  const r = await f.call('dnsRecords', { domain: 'example.com' });
  assert.equal(r.domain, 'example.com');
  assert.match(r.zone, /^; DNS records for example\.com, mail host mail\.example\.com\n/);
  const mx = r.records.find((s) => s.type === 'MX' && s.name === 'example.com');
  assert.equal(mx?.value, '10 mail.example.com.');
  assert.ok(r.zone.includes('\nexample.com. IN MX 10 mail.example.com.\n'), r.zone);
  const spf = r.records.find((s) => s.match === 'spf' && s.name === 'example.com')!;
  const dmarc = r.records.find((s) => s.match === 'dmarc')!;
  // Published: everything but DMARC; the domain's SPF is wrong.
  for (const s of r.records) if (s !== dmarc && s !== spf) publish(f.resolver, s);
  f.resolver.addTXT('example.com', 'v=spf1 -all');
  const c = await f.call('dnsCheck', { domain: 'example.com' });
  const statusOf = (s: typeof spf) => c.results.find((x) => x.spec.name === s.name && x.spec.type === s.type && x.spec.match === s.match);
  assert.equal(statusOf(mx)?.status, 'correct');
  assert.equal(statusOf(dmarc)?.status, 'missing');
  const wrongSpf = statusOf(spf)!;
  assert.equal(wrongSpf.status, 'wrong');
  assert.deepEqual(wrongSpf.found, ['"v=spf1 -all"']);
  assert.equal(wrongSpf.spec.value, spf.value, 'the expected value comes along');
  assert.ok(c.results.every((x) => x.status !== 'error'));
});

test('accounts: add with a password, addresses, full name, quota, password reset and login switch, remove', async (t) => {
  const f = await adminFixture(t);
  await f.login();
  assert.match((await f.refused('accountAdd', { name: 'alice', address: 'alice@example.com', password: '\u0007' })).message, /password/);
  const badName = await f.refused('accountAdd', { name: '-alice/..', address: 'alice@example.com' });
  assert.equal(badName.code, 'user:error');
  assert.match(badName.message, /account names are 1-64 letters, digits/);
  assert.ok(!(await f.sd.store.listAccounts()).includes('-alice/..'));
  assert.equal(f.sd.domains.current().accounts['alice'], undefined, 'an unusable password changes nothing');
  await f.call('accountAdd', { name: 'alice', address: 'alice@example.com', fullName: 'Alice', password: 'alicepw' });
  assert.ok((await f.sd.store.listAccounts()).includes('alice'));
  const creds = await f.sd.store.auth.getCredentials('alice');
  assert.ok(isStoredCredentials(creds) && (await verifyPassword(creds, 'alicepw')));
  assert.match(await f.domainsText(), /alice:\n\s+domain: example\.com\n\s+fullName: Alice\n\s+destinations:\n\s+alice@example\.com: \{\}/);

  await f.call('addressAdd', { account: 'alice', address: 'Info' }); // a bare localpart at the account's domain, lowercased
  assert.deepEqual(Object.keys(f.sd.domains.current().accounts['alice']!.destinations), ['alice@example.com', 'info@example.com']);
  assert.match((await f.refused('addressAdd', { account: 'bob', address: 'info@example.com' })).message, /already in use by account "alice"/);
  await f.call('accountSetFullName', { name: 'alice', fullName: 'Alice Liddell' });
  await f.call('accountSetQuota', { name: 'alice', quotaBytes: 5 * 1024 * 1024 });
  let a = await f.call('account', { name: 'alice' });
  assert.deepEqual([a.fullName, a.quotaBytes, a.quotaUsedBytes, a.hasPassword, a.mailData, a.addresses], ['Alice Liddell', 5 * 1024 * 1024, 0, true, true, ['alice@example.com', 'info@example.com']]);
  const mail = await f.sd.store.openAccount('alice');
  assert.equal((await mail.quota()).limit, 5 * 1024 * 1024, 'the store enforces the quota');
  await mail.close();

  const now = Date.now();
  await f.sd.store.auth.addWebSession({ idHash: 'h1', surface: 'account', account: 'alice', csrfToken: 't', created: now, lastUsed: now });
  assert.deepEqual(await f.call('accountSetPassword', { name: 'alice', password: 'newpw' }), { sessionsEnded: 1 });
  const creds2 = await f.sd.store.auth.getCredentials('alice');
  assert.ok(isStoredCredentials(creds2) && (await verifyPassword(creds2, 'newpw')) && !(await verifyPassword(creds2, 'alicepw')));

  await f.call('accountDisableLogin', { name: 'alice', message: 'Account closed.' });
  assert.equal(f.sd.domains.current().accounts['alice']!.loginDisabled, 'Account closed.');
  a = await f.call('account', { name: 'alice' });
  assert.equal(a.loginDisabled, 'Account closed.');
  await f.call('accountEnableLogin', { name: 'alice' });
  assert.equal(f.sd.domains.current().accounts['alice']!.loginDisabled, undefined);
  assert.deepEqual((await f.call('accounts', {})).map((x) => x.name), ['alice', 'bob', 'mjl']);

  await f.call('addressRemove', { address: 'info@example.com' });
  assert.match((await f.refused('addressRemove', { address: 'alice@example.com' })).message, /last address/);
  assert.deepEqual(await f.call('accountRemove', { name: 'alice' }), { dataRemoved: true });
  assert.equal(f.sd.domains.current().accounts['alice'], undefined);
  assert.ok(!(await f.sd.store.listAccounts()).includes('alice'));
  assert.ok(!isStoredCredentials(await f.sd.store.auth.getCredentials('alice')), 'credentials removed');
  assert.equal((await f.refused('account', { name: 'alice' })).message, 'no account "alice"');
});

test('aliases: add with flags, add and remove members, remove; in domains.conf and live', async (t) => {
  const f = await adminFixture(t);
  await f.login();
  await f.call('aliasAdd', { address: 'Team@example.com', members: ['mjl@example.com'], listMembers: true });
  assert.deepEqual(await f.call('aliases', {}), [{ address: 'team@example.com', members: ['mjl@example.com'], postPublic: false, listMembers: true, allowMsgFrom: false }]);
  assert.match(await f.domainsText(), /aliases:\n\s+team@example\.com:\n\s+members:\n\s+- mjl@example\.com\n\s+listMembers: true/);
  await f.call('aliasAddMembers', { address: 'team@example.com', members: ['bob@example.com'] });
  assert.deepEqual(f.sd.domains.current().aliases['team@example.com']!.members, ['mjl@example.com', 'bob@example.com']);
  assert.match((await f.refused('aliasAddMembers', { address: 'team@example.com', members: ['nobody@example.com'] })).message, /not an address of an account/);
  assert.match((await f.refused('accountRemove', { name: 'bob' })).message, /bob@example\.com/, 'a member account is not removed behind the alias');
  await f.call('aliasRemoveMembers', { address: 'team@example.com', members: ['mjl@example.com'] });
  assert.deepEqual(f.sd.domains.current().aliases['team@example.com']!.members, ['bob@example.com']);
  assert.match((await f.refused('aliasRemoveMembers', { address: 'team@example.com', members: ['bob@example.com'] })).message, /no members left/);
  assert.deepEqual((await f.call('account', { name: 'bob' })).aliases, ['team@example.com']);
  await f.call('aliasRemove', { address: 'team@example.com' });
  assert.deepEqual(f.sd.domains.current().aliases, {});
  assert.match((await f.refused('aliasRemove', { address: 'team@example.com' })).message, /no alias/);
});

test('queue: list with filters and pages; hold, release, reschedule, fail and drop by id', async (t) => {
  const f = await adminFixture(t);
  await f.login();
  const [a1, a2] = await f.enqueue(['one@remote.example', 'two@remote.example']);
  const [b1] = await f.enqueue(['three@other.example']);
  let p = await f.call('queueList', {});
  assert.equal(p.total, 3);
  assert.deepEqual(p.items.map((e) => e.id), [a1, a2, b1]);
  assert.equal(typeof p.items[0]!.nextAttempt, 'string', 'dates arrive as ISO strings');
  p = await f.call('queueList', { offset: 1, limit: 1 });
  assert.deepEqual([p.total, p.offset, p.items.map((e) => e.id)], [3, 1, [a2]]);
  assert.deepEqual((await f.call('queueList', { to: 'OTHER.example' })).items.map((e) => e.recipient), ['three@other.example']);
  assert.equal((await f.call('queueList', { account: 'bob' })).total, 0);

  assert.deepEqual(await f.call('queueHold', { ids: [a1!, a2!] }), { count: 2 });
  assert.deepEqual((await f.call('queueList', { held: true })).items.map((e) => e.id), [a1, a2]);
  assert.deepEqual((await f.call('overview', {})).counts, { domains: 1, accounts: 2, aliases: 0, queued: 3, held: 2 });
  assert.deepEqual(await f.call('queueRelease', { ids: [a2!] }), { count: 1 });
  assert.deepEqual((await f.call('queueList', { held: true })).items.map((e) => e.id), [a1]);

  const at = Date.now() + 3 * day;
  assert.deepEqual(await f.call('queueSchedule', { ids: [b1!], at }), { count: 1 });
  assert.equal(Date.parse((await f.call('queueList', { to: 'three@' })).items[0]!.nextAttempt), at);

  assert.deepEqual(await f.call('queueDrop', { ids: [a2!] }), { count: 1 });
  assert.deepEqual(await f.call('queueFail', { ids: [b1!] }), { count: 1 });
  assert.deepEqual((await f.call('queueList', {})).items.map((e) => e.id), [a1]);
  const retired = await f.call('retiredList', {});
  assert.deepEqual(retired.items.map((r) => [r.id, r.address, r.success, r.attempts]), [[b1, 'three@other.example', false, 1]]);
  assert.equal(retired.items[0]!.lastAttempt?.transport, 'admin');
  assert.equal((await f.call('retiredList', { success: true })).total, 0);
  assert.equal((await f.call('retiredAttempts', { id: b1! })).length, 1);
  assert.match((await f.refused('queueHold', { ids: [] })).message, /^bad request: ids/);
  // A selection is at most a page (1000): the queue checks every entry against the list.
  assert.match((await f.refused('queueDrop', { ids: Array.from({ length: 1001 }, (_, i) => i + 1) })).message, /^bad request: ids/);
  assert.match((await f.refused('queueList', { limit: 1001 })).message, /^bad request: limit/);
  assert.deepEqual((await f.call('queueList', {})).items.map((e) => e.id), [a1], 'nothing dropped');
});

test('hold rules hold queued entries; suppressions per account', async (t) => {
  const f = await adminFixture(t);
  await f.login();
  const [id] = await f.enqueue(['someone@held.example']);
  const rule = await f.call('holdRuleAdd', { recipientDomain: 'Held.Example' });
  assert.deepEqual([rule.account, rule.senderDomain, rule.recipientDomain], ['', '', 'held.example']);
  assert.equal((await f.call('queueList', { held: true })).items[0]?.id, id, 'the queued entry is held at once');
  assert.deepEqual((await f.call('holdRules', {})).map((r) => r.id), [rule.id]);
  assert.match((await f.refused('holdRuleAdd', { account: 'nobody' })).message, /no account "nobody"/);
  await f.call('holdRuleRemove', { id: rule.id });
  assert.deepEqual(await f.call('holdRules', {}), []);

  await f.call('suppressionAdd', { account: 'mjl', address: 'Bounce+tag@remote.example', reason: 'asked to stop' });
  const s = await f.call('suppressions', { account: 'mjl' });
  assert.deepEqual(s.map((x) => [x.account, x.address, x.reason, x.manual]), [['mjl', 'Bounce+tag@remote.example', 'asked to stop', true]]);
  assert.deepEqual(await f.call('suppressions', { account: 'bob' }), []);
  assert.match((await f.refused('suppressionAdd', { account: 'mjl', address: 'not-an-address' })).message, /not an email address/);
  await f.call('suppressionRemove', { account: 'mjl', address: 'bounce+tag@remote.example' });
  assert.deepEqual(await f.call('suppressions', {}), []);
});

test('without a running queue, the queue methods answer "queue not running"', async (t) => {
  const f = await adminFixture(t, { queue: false });
  await f.login();
  for (const [name, input] of [['queueList', {}], ['queueHold', { ids: [1] }], ['retiredList', {}], ['holdRules', {}], ['suppressions', {}]] as const) {
    assert.deepEqual(await f.refused(name, input), { status: 400, code: 'user:error', message: 'queue not running' }, name);
  }
  assert.equal((await f.call('overview', {})).counts.queued, undefined);
});

test('log levels: a module level set through the API is in force at once', async (t) => {
  const f = await adminFixture(t);
  await f.login();
  const before = getLevels();
  t.after(() => setLevel('smtpserver', before['smtpserver'] ?? before['']!));
  const r = await f.call('logLevels', {});
  assert.ok(r.modules.includes('http'));
  assert.ok(r.choices.includes('debug'));
  assert.equal(r.levels[''], before['']);
  assert.deepEqual((await f.call('logLevelSet', { module: 'smtpserver', level: 'debug' })).levels['smtpserver'], 'debug');
  assert.equal(getLevels()['smtpserver'], 'debug');
  assert.match((await f.refused('logLevelSet', { module: 'smtpserver', level: 'loud' })).message, /^bad request: level/);
});
