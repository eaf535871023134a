// Listeners, routing by path prefix and host, the / → /admin/ redirect, security headers
// over HTTP and HTTPS, the client IP behind a proxy, and the request rate limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentSecurityPolicy } from './server.ts';
import { webFixture } from './testfixture.ts';

test('routes by longest path prefix: / is the account page, /admin/ the admin page, others 404', async () => {
  const f = await webFixture();
  try {
    assert.equal((await f.call('/api/ping', {})).status, 200);
    const r = await f.call('/admin/api/login', { username: 'x', password: 'adminpw' });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['set-cookie']), /^mailcove-admin=/); // the admin surface answered, not the account one
    assert.equal((await f.request('GET', '/nothing-here')).status, 404);
    const slash = await f.request('GET', '/admin');
    assert.equal(slash.status, 302);
    assert.equal(slash.headers.location, '/admin/');
  } finally {
    await f.done();
  }
});

test('/ redirects to /admin/ when the listener serves only the admin page', async () => {
  const f = await webFixture({ surfaces: ({ admin }) => [admin] });
  try {
    const r = await f.request('GET', '/');
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, '/admin/');
    assert.equal((await f.request('GET', '/api/ping')).status, 404);
    assert.equal((await f.request('GET', '/admin/')).status, 200);
  } finally {
    await f.done();
  }
});

test('a surface with a host only answers for that host', async () => {
  const f = await webFixture({ surfaces: ({ account, admin }) => [{ ...admin, host: 'admin.mox.example' }, account] });
  try {
    assert.equal((await f.request('GET', '/admin/', { headers: { host: 'Admin.mox.example:443' } })).status, 200);
    assert.equal((await f.request('GET', '/admin/', { headers: { host: 'mail.mox.example' } })).status, 404); // the account surface has no such file
  } finally {
    await f.done();
  }
});

for (const tls of [false, true]) {
  test(`security headers on every response over ${tls ? 'HTTPS (with HSTS)' : 'HTTP (without HSTS)'}`, async () => {
    const f = await webFixture({ tls });
    try {
      for (const r of [await f.request('GET', '/'), await f.request('GET', '/nothing'), await f.call('/api/echo', { text: 'x' })]) {
        assert.equal(r.headers['content-security-policy'], contentSecurityPolicy);
        assert.equal(r.headers['x-content-type-options'], 'nosniff');
        assert.equal(r.headers['referrer-policy'], 'same-origin');
        assert.equal(r.headers['x-frame-options'], 'DENY');
        assert.equal(r.headers['strict-transport-security'], tls ? 'max-age=31536000' : undefined);
      }
    } finally {
      await f.done();
    }
  });
}

test('the client IP is the socket address, or X-Forwarded-For\'s last hop on a forwarded listener', async () => {
  const direct = await webFixture();
  try {
    const r = await direct.call('/api/whoami', {}, { 'x-forwarded-for': '192.0.2.1', 'x-forwarded-proto': 'https' });
    assert.deepEqual(r.json(), { ip: '127.0.0.1', secure: false });
  } finally {
    await direct.done();
  }
  const proxied = await webFixture({ forwarded: true });
  try {
    const r = await proxied.call('/api/whoami', {}, { 'x-forwarded-for': '198.51.100.7, 192.0.2.1', 'x-forwarded-proto': 'https' });
    assert.deepEqual(r.json(), { ip: '192.0.2.1', secure: true });
    assert.equal(r.headers['strict-transport-security'], 'max-age=31536000', 'HTTPS to the browser through the proxy');
    const bad = await proxied.call('/api/whoami', {}, { 'x-forwarded-for': 'not-an-ip' });
    assert.deepEqual(bad.json(), { ip: '127.0.0.1', secure: false });
    assert.equal(bad.headers['strict-transport-security'], undefined);
  } finally {
    await proxied.done();
  }
});

test('request headers over 16 KiB are refused with 431', async () => {
  const f = await webFixture();
  try {
    assert.equal((await f.request('GET', '/', { headers: { 'x-pad': 'x'.repeat(12 * 1024) } })).status, 200);
    const r = await f.request('GET', '/', { headers: { 'x-pad': 'x'.repeat(17 * 1024) } }).catch((e: unknown) => e);
    assert.ok(!(r instanceof Error), String(r));
    assert.equal((r as { status: number }).status, 431); // RFC 6585 §5
  } finally {
    await f.done();
  }
});

test('requests over the per-IP rate limit get 429', async () => {
  const f = await webFixture({ requestLimits: [{ windowMs: 60_000, limits: [3, 100, 100] }] });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await f.request('GET', '/')).status, 200);
    const r = await f.request('GET', '/');
    assert.equal(r.status, 429);
    assert.equal(r.headers['retry-after'], '60'); // RFC 6585 §4
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
  } finally {
    await f.done();
  }
});
