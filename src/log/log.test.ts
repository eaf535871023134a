import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Logging goes to stdout as JSON lines; run a small program and read them back.
function run(code: string, env: Record<string, string> = {}): Record<string, unknown>[] {
  const log = fileURLToPath(new URL('./index.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import * as log from ${JSON.stringify(log)};\n${code}`], { encoding: 'utf8', env: { ...process.env, NODE_TEST_CONTEXT: '', MAILCOVE_LOG_LEVEL: 'info', ...env } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('every line carries the module, and the connection id when given', () => {
  const lines = run(`const l = log.withCid(log.logger('smtpserver'), 'abc123', { remote: '127.0.0.1' }); l.info({ cmd: 'EHLO' }, 'command');`);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!['module'], 'smtpserver');
  assert.equal(lines[0]!['cid'], 'abc123');
  assert.equal(lines[0]!['remote'], '127.0.0.1');
  assert.equal(lines[0]!['msg'], 'command');
});

test('levels are per module and change at runtime', () => {
  const lines = run(`
    const a = log.logger('imapserver'); const b = log.logger('store');
    a.debug('hidden'); log.setLevel('imapserver', 'debug'); a.debug('shown');
    b.debug('hidden too'); log.setLevel('', 'warn'); b.info('hidden by global'); a.debug('module level wins');
    console.log(JSON.stringify({ levels: log.getLevels() }));`);
  assert.deepEqual(lines.filter((l) => l['msg']).map((l) => l['msg']), ['shown', 'module level wins']);
  assert.deepEqual(lines.find((l) => l['levels'])?.['levels'], { '': 'warn', imapserver: 'debug' });
});

test('connection ids are distinct', async () => {
  const { newCid } = await import('./index.ts');
  const ids = new Set(Array.from({ length: 1000 }, () => newCid()));
  assert.equal(ids.size, 1000);
});
