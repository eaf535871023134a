// Rate and concurrency limiters: IP class keys, per-class limits, window roll-over,
// the weighted previous bucket, reset and concurrency slots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConcurrencyLimiter, RateLimiter, ipClassKeys } from './index.ts';

test('IP classes: IPv4 /32 /26 /21, IPv6 /64 /48 /32, mapped IPv4 as IPv4', () => {
  assert.deepEqual(ipClassKeys('192.0.2.77'), ipClassKeys('::ffff:192.0.2.77'));
  assert.equal(ipClassKeys('192.0.2.77')[1], ipClassKeys('192.0.2.100')[1]); // same /26 (64-127)
  assert.notEqual(ipClassKeys('192.0.2.77')[1], ipClassKeys('192.0.2.130')[1]);
  assert.equal(ipClassKeys('192.0.2.77')[2], ipClassKeys('192.0.5.1')[2]); // same /21
  assert.equal(ipClassKeys('2001:db8:1:2::1')[0], ipClassKeys('2001:db8:1:2:ffff::9')[0]);
  assert.notEqual(ipClassKeys('2001:db8:1:2::1')[0], ipClassKeys('2001:db8:1:3::1')[0]);
  assert.equal(ipClassKeys('2001:db8:1:2::1')[1], ipClassKeys('2001:db8:1:3::1')[1]);
  assert.equal(ipClassKeys('2001:db8:1::1')[2], ipClassKeys('2001:db8:ffff::1')[2]);
});

test('a rate limiter refuses past each class limit and forgets after the window', () => {
  const r = new RateLimiter([{ windowMs: 60_000, limits: [2, 3, 10] }]);
  const t = 1_000_000_020_000;
  assert.ok(r.add('192.0.2.1', 1, t));
  assert.ok(r.add('192.0.2.1', 1, t));
  assert.ok(!r.add('192.0.2.1', 1, t)); // /32 full
  assert.ok(r.add('192.0.2.2', 1, t));
  assert.ok(!r.canAdd('192.0.2.3', 1, t)); // /26 full (3)
  assert.ok(r.canAdd('192.0.2.200', 1, t)); // another /26
  assert.ok(r.add('192.0.2.1', 1, t + 130_000)); // two windows later: all forgotten
  r.reset('192.0.2.1', t + 130_000);
  assert.ok(r.add('192.0.2.1', 2, t + 130_000));
});

test('a concurrency limiter counts slots per class', () => {
  const c = new ConcurrencyLimiter([1, 2, 5]);
  assert.ok(c.acquire('10.0.0.1'));
  assert.ok(!c.acquire('10.0.0.1'));
  assert.ok(c.acquire('10.0.0.2'));
  assert.ok(!c.acquire('10.0.0.3'));
  c.release('10.0.0.1');
  assert.equal(c.count('10.0.0.1'), 0);
  assert.ok(c.acquire('10.0.0.3'));
});

test('the previous window still counts, weighted by how much of it lies in the sliding window', () => {
  const r = new RateLimiter([{ windowMs: 60_000, limits: [2, 10, 10] }]);
  const t = 60_000 * 1_000_000; // start of a window
  assert.ok(r.add('192.0.2.1', 2, t));
  assert.ok(!r.canAdd('192.0.2.1', 1, t + 60_000)); // next window starts: previous counts fully
  assert.ok(r.canAdd('192.0.2.1', 1, t + 90_000)); // half way: counts as 1
  assert.ok(!r.canAdd('192.0.2.1', 2, t + 90_000));
});

test('every window is checked: an hourly limit refuses when the minute limit would not', () => {
  const r = new RateLimiter([{ windowMs: 60_000, limits: [5, 10, 10] }, { windowMs: 3_600_000, limits: [6, 10, 10] }]);
  const t = 3_600_000 * 1000;
  for (let i = 0; i < 5; i++) assert.ok(r.add('2001:db8::1', 1, t));
  assert.ok(r.add('2001:db8::1', 1, t + 120_000));
  assert.ok(!r.add('2001:db8::1', 1, t + 240_000));
});

test('IP classes: other spellings of one address give the same keys; non-addresses do not crash', () => {
  assert.deepEqual(ipClassKeys('::FFFF:C000:024D'), ipClassKeys('192.0.2.77')); // mapped, in hex
  assert.deepEqual(ipClassKeys('0:0:0:0:0:ffff:192.0.2.77'), ipClassKeys('192.0.2.77'));
  assert.deepEqual(ipClassKeys('2001:DB8:0:0:1::1'), ipClassKeys('2001:db8::1:0:0:1'));
  assert.deepEqual(ipClassKeys('fe80::1%eth0'), ipClassKeys('fe80::1'));
  assert.deepEqual(ipClassKeys('64:ff9b::192.0.2.77'), ipClassKeys('64:ff9b::c000:24d')); // embedded dotted quad (RFC 6052)
  assert.equal(ipClassKeys('not-an-ip')[0], ipClassKeys('not-an-ip')[2]);
  assert.ok(new RateLimiter([{ windowMs: 1000, limits: [1, 1, 1] }]).add('not-an-ip'));
});
