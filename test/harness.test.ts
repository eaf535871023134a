import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('the harness fails a test process that counted an uncaught error', () => {
  const setup = fileURLToPath(new URL('./setup.ts', import.meta.url));
  const metrics = fileURLToPath(new URL('../src/metrics/index.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', setup, '--input-type=module', '-e', `import { countUncaughtError } from ${JSON.stringify(metrics)}; countUncaughtError('imap');`], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /mailcove_uncaught_errors_total is 1/);
});

test('the harness sets the store to verify accounts on close', () => {
  assert.equal(process.env['MAILCOVE_VERIFY_ON_CLOSE'], '1');
});
