// Login, the session cookie and its attributes, CSRF, logout, persistence across a restart,
// ending other sessions, expiry, and the failed-login limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exposition } from '../metrics/index.ts';
import { webFixture } from './testfixture.ts';

for (const tls of [false, true]) {
  test(`login sets the session cookie HttpOnly, SameSite=Strict, path-scoped${tls ? ', Secure over HTTPS' : ', not Secure over HTTP'}`, async () => {
    const f = await webFixture({ tls });
    try {
      const r = await f.call('/api/login', { username: 'mjl@mox.example', password: 'secret' });
      assert.equal(r.status, 200);
      const body = r.json() as { account: string; csrfToken: string };
      assert.equal(body.account, 'mjl');
      assert.match(body.csrfToken, /^[A-Za-z0-9_-]{22}$/);
      const cookies = r.headers['set-cookie']!;
      assert.equal(cookies.length, 1);
      assert.match(cookies[0]!, new RegExp(`^mailcove-account=[A-Za-z0-9_-]{22}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Strict${tls ? '; Secure' : ''}$`));
      assert.ok(!cookies[0]!.includes(body.csrfToken));
      const admin = await f.call('/admin/api/login', { username: 'admin', password: 'adminpw' });
      assert.match(admin.headers['set-cookie']![0]!, new RegExp(`^mailcove-admin=[A-Za-z0-9_-]{22}; Path=/admin/; Max-Age=2592000; HttpOnly; SameSite=Strict${tls ? '; Secure' : ''}$`));
    } finally {
      await f.done();
    }
  });
}

test('a wrong password is user:badAuth 401 and sets no cookie', async () => {
  const f = await webFixture();
  try {
    const r = await f.call('/api/login', { username: 'mjl@mox.example', password: 'wrong' });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json(), { code: 'user:badAuth', message: 'wrong username or password' });
    assert.equal(r.headers['set-cookie'], undefined);
  } finally {
    await f.done();
  }
});

test('no session method is reachable without a session: 401 user:noAuth', async () => {
  const f = await webFixture();
  try {
    for (const path of ['/api/echo', '/api/changePassword', '/api/logout', '/admin/api/echo']) {
      const r = await f.call(path, { text: 'x' });
      assert.equal(r.status, 401, path);
      assert.equal((r.json() as { code: string }).code, 'user:noAuth');
      assert.equal(r.headers['www-authenticate'], `MailcoveSession realm="${path.startsWith('/admin/') ? '/admin/' : '/'}"`, 'RFC 9110 §15.5.2: a 401 names its scheme');
    }
    const forged = await f.call('/api/echo', { text: 'x' }, { cookie: 'mailcove-account=AAAAAAAAAAAAAAAAAAAAAA' });
    assert.equal(forged.status, 401);
  } finally {
    await f.done();
  }
});

test('a session call needs the CSRF header: without or wrong it is refused, with it works', async () => {
  const f = await webFixture();
  try {
    const { cookie, csrf } = await f.login();
    const without = await f.call('/api/echo', { text: 'x' }, { cookie });
    assert.equal(without.status, 403);
    assert.equal((without.json() as { code: string }).code, 'user:noAuth');
    assert.equal((await f.call('/api/echo', { text: 'x' }, { cookie, 'x-mailcove-csrf': `${csrf.slice(1)}A` })).status, 403);
    const ok = await f.call('/api/echo', { text: 'x' }, { cookie, 'x-mailcove-csrf': csrf });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json(), { text: 'x', account: 'mjl' });
    // The account cookie is no admin session.
    assert.equal((await f.call('/admin/api/echo', { text: 'x' }, { cookie, 'x-mailcove-csrf': csrf })).status, 401);
  } finally {
    await f.done();
  }
});

test('a direct form post carries the CSRF token as field csrf', async () => {
  const f = await webFixture();
  try {
    const { cookie, csrf } = await f.login();
    const form = (fields: Record<string, string>) => f.request('POST', '/api/echo', { headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    const ok = await form({ text: 'a b', csrf });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json(), { text: 'a b', account: 'mjl' });
    assert.equal((await form({ text: 'a b' })).status, 403);
  } finally {
    await f.done();
  }
});

test('a login ends the session the browser had on the surface: a planted session id is not carried over', async () => {
  const f = await webFixture();
  try {
    const old = await f.login();
    const r = await f.call('/api/login', { username: 'mjl@mox.example', password: 'secret' }, { cookie: old.cookie });
    assert.equal(r.status, 200);
    const cookie = String(r.headers['set-cookie']?.[0]).split(';')[0]!;
    assert.notEqual(cookie, old.cookie, 'a new session id');
    assert.equal((await f.call('/api/echo', { text: 'x' }, { cookie: old.cookie, 'x-mailcove-csrf': old.csrf })).status, 401, 'the old one ended');
    assert.equal((await f.call('/api/echo', { text: 'x' }, { cookie, 'x-mailcove-csrf': (r.json() as { csrfToken: string }).csrfToken })).status, 200);
  } finally {
    await f.done();
  }
});

test('a login is JSON only: a form post (which any site can make a browser send) is 415 and makes no session', async () => {
  const f = await webFixture();
  try {
    const r = await f.request('POST', '/api/login', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: 'mjl@mox.example', password: 'secret' }).toString() });
    assert.equal(r.status, 415);
    assert.equal((r.json() as { code: string }).code, 'user:error');
    assert.equal(r.headers['set-cookie'], undefined);
  } finally {
    await f.done();
  }
});

test('after logout the old cookie no longer works', async () => {
  const f = await webFixture();
  try {
    const { cookie, csrf } = await f.login();
    const out = await f.call('/api/logout', {}, { cookie, 'x-mailcove-csrf': csrf });
    assert.equal(out.status, 200);
    assert.match(out.headers['set-cookie']![0]!, /^mailcove-account=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/);
    const r = await f.call('/api/echo', { text: 'x' }, { cookie, 'x-mailcove-csrf': csrf });
    assert.equal(r.status, 401);
    assert.equal((r.json() as { code: string }).code, 'user:noAuth');
  } finally {
    await f.done();
  }
});

test('account sessions survive a restart of the HTTP server with the same store; only the id hash is stored', async () => {
  const f = await webFixture();
  try {
    const { cookie, csrf } = await f.login();
    await f.stop();
    await f.restart();
    assert.equal((await f.call('/api/echo', { text: 'x' }, { cookie, 'x-mailcove-csrf': csrf })).status, 200);
    const id = cookie.split('=')[1]!;
    assert.equal(await f.store.auth.getWebSession(id), undefined);
  } finally {
    await f.done();
  }
});

test('invalidateOtherSessions (a password change) ends the other sessions, not the current one', async () => {
  const f = await webFixture();
  try {
    const a = await f.login();
    const b = await f.login();
    const c = await f.login();
    const r = await f.call('/api/changePassword', {}, { cookie: a.cookie, 'x-mailcove-csrf': a.csrf });
    assert.deepEqual(r.json(), { ended: 2 });
    assert.equal((await f.call('/api/echo', { text: 'x' }, { cookie: a.cookie, 'x-mailcove-csrf': a.csrf })).status, 200);
    for (const s of [b, c]) assert.equal((await f.call('/api/echo', { text: 'x' }, { cookie: s.cookie, 'x-mailcove-csrf': s.csrf })).status, 401);
  } finally {
    await f.done();
  }
});

test('sessions end after 24 h idle and after 30 days in all, and use extends them', async () => {
  const f = await webFixture();
  try {
    const echo = (s: { cookie: string; csrf: string }) => f.call('/api/echo', { text: 'x' }, { cookie: s.cookie, 'x-mailcove-csrf': s.csrf }).then((r) => r.status);
    const hour = 3600_000;
    const start = f.clock.now;
    const idle = await f.login();
    const used = await f.login();
    f.clock.now += 23 * hour;
    assert.equal(await echo(used), 200); // extends
    f.clock.now += 2 * hour;
    assert.equal(await echo(idle), 401); // 25 h idle
    assert.equal(await echo(used), 200); // 2 h idle
    while (f.clock.now + 20 * hour - start <= 30 * 24 * hour) {
      f.clock.now += 20 * hour;
      assert.equal(await echo(used), 200, `after ${(f.clock.now - start) / hour} h`);
    }
    f.clock.now += 20 * hour; // past 30 days since login, though used within the day
    assert.equal(await echo(used), 401);
  } finally {
    await f.done();
  }
});

test('after N failed logins from an IP, logins are refused with 429 and counted', async () => {
  const f = await webFixture(); // limit: 3 failures per minute per /32
  try {
    const count = async (result: string) => {
      const m = new RegExp(`^mailcove_http_login_total\\{surface="account",result="${result}"\\} (\\d+)$`, 'm').exec((await exposition()).body);
      return Number(m?.[1] ?? 0);
    };
    const [bad0, limited0] = [await count('badauth'), await count('ratelimited')];
    for (let i = 0; i < 3; i++) assert.equal((await f.call('/api/login', { username: 'mjl@mox.example', password: 'wrong' })).status, 401);
    const r = await f.call('/api/login', { username: 'mjl@mox.example', password: 'secret' }); // even the right password
    assert.equal(r.status, 429);
    assert.deepEqual(r.json(), { code: 'user:error', message: 'too many failed logins, try again later' });
    assert.equal(await count('badauth'), bad0 + 3);
    assert.equal(await count('ratelimited'), limited0 + 1);
    assert.equal(f.failures.allowed('127.0.0.1'), false); // the limiter SMTP and IMAP share
  } finally {
    await f.done();
  }
});
