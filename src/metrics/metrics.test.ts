import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counter, exposition } from './index.ts';

test('counters with init labels are exported as 0 before the first increment', async () => {
  counter<'result'>('mailcove_test_things_total', 'Test things.', ['result'], [{ result: 'ok' }, { result: 'error' }]);
  const { body } = await exposition();
  assert.match(body, /mailcove_test_things_total\{result="ok"\} 0/);
  assert.match(body, /mailcove_test_things_total\{result="error"\} 0/);
});

test('uncaught error counter is initialised to 0 for every protocol', async () => {
  const { body } = await exposition();
  for (const p of ['smtp', 'imap', 'http']) assert.match(body, new RegExp(`mailcove_uncaught_errors_total\\{protocol="${p}"\\} 0`));
});

test('counter get sums the matching label sets', async () => {
  const c = counter<'a'>('mailcove_test_sum_total', 'Sum.', ['a']);
  c.inc({ a: 'x' }, 2);
  c.inc({ a: 'y' }, 3);
  assert.equal(await c.get(), 5);
  assert.equal(await c.get({ a: 'x' }), 2);
});
