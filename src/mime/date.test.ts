import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDate } from './date.ts';

test('formatDate writes RFC 5322 date-time in UTC', () => {
  assert.equal(formatDate(new Date('2026-11-28T22:07:05Z')), 'Sat, 28 Nov 2026 22:07:05 +0000');
  assert.equal(formatDate(new Date('2027-01-03T01:02:03Z')), 'Sun, 3 Jan 2027 01:02:03 +0000');
});
