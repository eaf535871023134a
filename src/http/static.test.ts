// The surface's page and script: ETag revalidation and gzip/brotli by Accept-Encoding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { negotiateEncoding } from './static.ts';
import { page, webFixture } from './testfixture.ts';

test('the page has a strong ETag, Cache-Control no-cache, and If-None-Match gives 304', async () => {
  const f = await webFixture();
  try {
    const r = await f.request('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal(r.headers.vary, 'Accept-Encoding');
    const etag = r.headers.etag!;
    assert.match(etag, /^"[A-Za-z0-9_-]+"$/);
    assert.deepEqual(r.body, page.html.variants.identity.body);
    const again = await f.request('GET', '/', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal((await f.request('GET', '/', { headers: { 'if-none-match': '"other"' } })).status, 200);
    const js = await f.request('GET', '/app.js');
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.notEqual(js.headers.etag, etag);
  } finally {
    await f.done();
  }
});

test('brotli, gzip or identity by Accept-Encoding, each with its own ETag', async () => {
  const f = await webFixture();
  try {
    const br = await f.request('GET', '/', { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.deepEqual(brotliDecompressSync(br.body), page.html.variants.identity.body);
    assert.ok(br.body.length < page.html.variants.identity.body.length);
    const gz = await f.request('GET', '/', { headers: { 'accept-encoding': 'gzip, br;q=0' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.deepEqual(gunzipSync(gz.body), page.html.variants.identity.body);
    const plain = await f.request('GET', '/', { headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(new Set([br.headers.etag, gz.headers.etag, plain.headers.etag]).size, 3);
    assert.equal((await f.request('GET', '/', { headers: { 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) } })).status, 304);
    // RFC 9110 §13.1.2: only the selected representation's tag counts; the gzip copy does not answer a br request.
    const other = await f.request('GET', '/', { headers: { 'accept-encoding': 'br', 'if-none-match': `${String(gz.headers.etag)}, "x"` } });
    assert.equal(other.status, 200);
    assert.equal(other.headers.etag, br.headers.etag);
    assert.equal((await f.request('GET', '/', { headers: { 'accept-encoding': 'gzip', 'if-none-match': `W/${String(gz.headers.etag)}` } })).status, 304, 'weak comparison');
    const head = await f.request('HEAD', '/', { headers: { 'accept-encoding': 'br' } });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(Number(head.headers['content-length']), br.body.length);
  } finally {
    await f.done();
  }
});

test('Accept-Encoding negotiation follows q-values', () => {
  assert.equal(negotiateEncoding(undefined), 'identity');
  assert.equal(negotiateEncoding('*'), 'br');
  assert.equal(negotiateEncoding('*;q=0, gzip'), 'gzip');
  assert.equal(negotiateEncoding('br;q=0.0, gzip;q=0'), 'identity');
  assert.equal(negotiateEncoding('GZIP;q=0.5'), 'gzip');
  assert.equal(negotiateEncoding('x-gzip'), 'gzip'); // RFC 9110 §8.4.1.3
});
