// The metrics listener's output, after real SMTP, IMAP and queue traffic, passes
// Prometheus's own checker (`promtool check metrics`, Debian's prometheus package), and has
// the series dashboards need: uncaught errors at 0 for every protocol, commands with their
// durations, logins by result, TLS versions, queue size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { collectProcessMetrics, startMetricsListener } from '../src/metrics/index.ts';
import { imapFixture } from '../src/imapserver/testfixture.ts';
import { smtpFixture } from '../src/smtpserver/testfixture.ts';
import { needs } from './imappeers.ts';

test('metrics after SMTP, IMAP and queue traffic pass promtool check metrics; uncaught errors are 0', { skip: needs('promtool', 'prometheus') }, async (t) => {
  collectProcessMetrics();
  const imap = await imapFixture();
  t.after(() => imap.done());
  const smtp = await smtpFixture({ queue: true });
  t.after(() => smtp.done());
  const metrics = await startMetricsListener('127.0.0.1', 0);
  t.after(() => metrics.close());

  const c = await imap.connect({ service: 'imaps' }); // TLS
  assert.match((await c.run('LOGIN mjl@example.com wrongpassword')).tagged, /^NO \[AUTHENTICATIONFAILED\]/);
  assert.match((await c.run('NOOP')).tagged, /^OK/);
  c.close();
  const s = await smtp.connect('submission', { starttls: true, auth: true });
  await s.command('QUIT', 221);

  const res = await fetch(`http://127.0.0.1:${metrics.port}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);

  for (const protocol of ['smtp', 'submission', 'imap', 'http', 'queue', 'store', 'cli']) assert.match(text, new RegExp(`^mailcove_uncaught_errors_total\\{protocol="${protocol}"\\} 0$`, 'm'));
  assert.match(text, /^mailcove_auth_total\{protocol="imap",result="badauth"\} [1-9]/m);
  assert.match(text, /^mailcove_auth_total\{protocol="submission",result="ok"\} [1-9]/m);
  assert.match(text, /^mailcove_tls_connections_total\{protocol="imap",version="TLSv1\.3"\} [1-9]/m);
  assert.match(text, /^mailcove_tls_connections_total\{protocol="submission",version="TLSv1\.3"\} [1-9]/m);
  assert.match(text, /^mailcove_imap_command_duration_seconds_count\{command="NOOP"\} [1-9]/m);
  assert.match(text, /^mailcove_smtp_command_duration_seconds_bucket\{le="\+Inf",service="submission",verb="EHLO"\} [1-9]/m);
  assert.match(text, /^mailcove_queue_recipients\{state="queued"\} 0$/m);
  assert.match(text, /^mailcove_smtp_connections_total/m);
  assert.match(text, /^mailcove_process_resident_memory_bytes /m);
});
