// The typed API layer: methods by name, zod validation, error codes and statuses, body limits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApiRequest, ApiResponse } from './api.ts';
import { type testApi, webFixture } from './testfixture.ts';

// The frontend's view: request and response types come from the API definition itself.
type EchoRequest = ApiRequest<(typeof testApi)['echo']>;
type EchoResponse = ApiResponse<(typeof testApi)['echo']>;
const echoRequest: EchoRequest = { text: 'hi' };
const echoResponse = (r: EchoResponse): string => `${r.account}: ${r.text}`;

test('an auth none method answers its JSON result', async () => {
  const f = await webFixture();
  try {
    const r = await f.call('/api/ping', {});
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.deepEqual(r.json(), { pong: true });
  } finally {
    await f.done();
  }
});

test('input failing the schema is user:error 400 saying what is wrong', async () => {
  const f = await webFixture();
  try {
    const { cookie, csrf } = await f.login();
    const r = await f.call('/api/echo', { text: 'far too long text' }, { cookie, 'x-mailcove-csrf': csrf });
    assert.equal(r.status, 400);
    const e = r.json() as { code: string; message: string };
    assert.equal(e.code, 'user:error');
    assert.match(e.message, /^bad request: text: /);
    const wrongType = await f.call('/api/echo', { text: 1 }, { cookie, 'x-mailcove-csrf': csrf });
    assert.equal(wrongType.status, 400);
    const ok = await f.call('/api/echo', echoRequest, { cookie, 'x-mailcove-csrf': csrf });
    assert.equal(echoResponse(ok.json() as EchoResponse), 'mjl: hi');
  } finally {
    await f.done();
  }
});

test('an ApiError from a handler is answered with its code and message', async () => {
  const f = await webFixture();
  try {
    const r = await f.call('/api/refuse', {});
    assert.equal(r.status, 400);
    assert.deepEqual(r.json(), { code: 'user:error', message: 'not today' });
  } finally {
    await f.done();
  }
});

test('unknown methods, GET, bad JSON and other content types are refused as user:error', async () => {
  const f = await webFixture();
  try {
    const unknown = await f.call('/api/nosuch', {});
    assert.equal(unknown.status, 404);
    assert.equal((unknown.json() as { code: string }).code, 'user:error');
    assert.equal((await f.call('/api/toString', {})).status, 404); // no prototype lookups
    const get = await f.request('GET', '/api/ping');
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
    const bad = await f.request('POST', '/api/ping', { headers: { 'content-type': 'application/json' }, body: '{' });
    assert.deepEqual(bad.json(), { code: 'user:error', message: 'request body is not valid JSON' });
    assert.equal((await f.request('POST', '/api/ping', { headers: { 'content-type': 'text/plain' }, body: 'x' })).status, 415);
  } finally {
    await f.done();
  }
});

test('a body over 1 MiB is refused with 413', async () => {
  const f = await webFixture();
  try {
    const r = await f.request('POST', '/api/ping', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }) });
    assert.equal(r.status, 413);
    assert.equal((r.json() as { code: string }).code, 'user:error');
    const huge = await f.request('POST', '/api/ping', { headers: { 'content-type': 'application/json', 'content-length': String(100 * 1024 * 1024) } });
    assert.equal(huge.status, 413);
  } finally {
    await f.done();
  }
});
