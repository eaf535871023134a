// `mailcove queue ...` against a running queue's control socket, found through
// `--dir DIR` (a localserve directory) as an admin runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runArgv } from './testrun.ts';
import { parseDuration, parseTime } from './queue.ts';
import { controlFixture, type ControlFixture } from '../queue/testfixture.ts';

function withQueue(name: string, fn: (f: ControlFixture, mailcove: (...argv: string[]) => ReturnType<typeof runArgv>) => Promise<void>): void {
  test(name, async () => {
    const f = await controlFixture();
    try {
      await fn(f, (...argv) => runArgv([...argv, '--dir', f.dir]));
    } finally {
      await f.done();
    }
  });
}

withQueue('queue list --dir DIR prints the queue of the server running in that directory', async (f, mailcove) => {
  const [a, b] = await f.add({ from: 'alice@example.org', to: ['one@example.net', 'two@example.com'] });
  const r = await mailcove('queue', 'list');
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^ID\s+FROM\s+TO\s+ATTEMPTS\s+NEXT ATTEMPT\s+HELD\s+LAST ERROR$/);
  assert.match(lines[1]!, new RegExp(`^${a}\\s+alice@example.org\\s+one@example.net\\s+0\\s+\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\s+yes$`));
  assert.match(lines[2]!, new RegExp(`^${b}\\s+alice@example.org\\s+two@example.com\\s+0\\s+`));
  assert.equal(lines.length, 3);

  const one = await mailcove('queue', 'list', '--to', 'example.com');
  assert.equal(one.stdout.trimEnd().split('\n').length, 2);
  const none = await mailcove('queue', 'list', '--not-held');
  assert.equal(none.stdout, 'no queue entries match\n');
  const withAttempts = await mailcove('queue', 'list', '--id', `${a},${b}`);
  assert.match(withAttempts.stdout, new RegExp(`attempts of ${a} \\(one@example.net\\):\\n  no attempts yet\\n`));
  assert.match(withAttempts.stdout, new RegExp(`attempts of ${b} `));
});

withQueue('hold, release, schedule, fail and drop print how many entries they changed', async (f, mailcove) => {
  const [a, b, c] = await f.add({ from: 'alice@example.org', to: ['one@example.net', 'two@example.net', 'three@example.net'] });
  assert.equal((await mailcove('queue', 'release', '--id', String(a), '--id', String(b))).stdout, '2 entries released\n');
  assert.equal((await mailcove('queue', 'hold', '--to', 'one@')).stdout, '1 entry held\n');
  assert.equal((await mailcove('queue', 'schedule', '--held', '--in', '-1h')).stdout, '2 entries scheduled 1h earlier\n');
  assert.equal((await mailcove('queue', 'schedule', '--id', String(c), '--at', '2h')).stdout.replace(/\d{4}-\S+Z/, 'TIME'), '1 entry scheduled for TIME\n');

  const refused = await mailcove('queue', 'fail');
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /refusing to fail the whole queue: give a filter, or --all/);
  assert.equal((await mailcove('queue', 'fail', '--id', String(a))).stdout, '1 entry failed; failure DSNs go to the senders, unless they asked for none\n');
  assert.equal((await mailcove('queue', 'drop')).code, 2);
  assert.equal((await mailcove('queue', 'drop', '--all')).stdout, '2 entries dropped, without DSN\n');
  assert.equal((await mailcove('queue', 'list')).stdout, 'queue is empty\n');
});

withQueue('queue dump writes the message as queued', async (f, mailcove) => {
  const data = 'From: <alice@example.org>\r\nSubject: dump me\r\n\r\nline 1\r\n.line 2\r\n';
  const [a] = await f.add({ from: 'alice@example.org', to: ['one@example.net'], data });
  const r = await mailcove('queue', 'dump', String(a));
  assert.equal(r.stdout, data);
  const missing = await mailcove('queue', 'dump', '999');
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'mailcove queue dump: no queue entry 999\n');
  assert.equal((await mailcove('queue', 'dump', 'x')).code, 2);
});

withQueue('queue retired prints results, and with --id each attempt', async (f, mailcove) => {
  const [a] = await f.add({ from: '', to: ['one@example.net'] });
  await f.queue.fail({ ids: [a!] });
  const r = await mailcove('queue', 'retired', '--failed');
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^ID\s+RESULT\s+FROM\s+TO\s+RETIRED\s+ATTEMPTS\s+LAST ERROR$/);
  assert.match(lines[1]!, new RegExp(`^${a}\\s+failed\\s+<>\\s+one@example.net\\s+\\S+Z\\s+1\\s+`));
  assert.equal((await mailcove('queue', 'retired', '--delivered')).stdout, 'no retired entries match\n');
  const detail = await mailcove('queue', 'retired', '--id', String(a));
  assert.match(detail.stdout, /\n  TIME\s+TRANSPORT\s+MX\s+IP\s+TLS\s+CODE\s+ENHANCED\s+RESULT\n  \S+Z\s+admin\s+-\s+-\s+-\s+-\s+-\s+failed by the administrator\n/);
  const future = await mailcove('queue', 'retired', '--retired-after', '1h');
  assert.equal(future.code, 2);
  assert.match(future.stderr, /--retired-after 1h: that is in the future; for 1h ago write -1h/);
});

withQueue('queue suppress and queue holdrules add, list and rm', async (f, mailcove) => {
  assert.equal((await mailcove('queue', 'suppress', 'list')).stdout, 'no suppressed recipients\n');
  assert.equal((await mailcove('queue', 'suppress', 'add', 'mailcove', 'bounce@example.net', 'hard bounce')).code, 0);
  assert.match((await mailcove('queue', 'suppress', 'list', 'mailcove')).stdout, /\nmailcove\s+bounce@example.net\s+\S+Z\s+manual\s+hard bounce\n$/);
  await mailcove('queue', 'suppress', 'add', 'mailcove', 'ansi@example.net', 'red \x1b[31malert');
  assert.match((await mailcove('queue', 'suppress', 'list')).stdout, /red \\x1b\[31malert\n/, 'control characters are shown escaped');
  await mailcove('queue', 'suppress', 'rm', 'mailcove', 'ansi@example.net');
  const unknown = await mailcove('queue', 'suppress', 'add', 'nobody', 'x@example.net');
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, 'mailcove queue suppress add: no account "nobody" in domains.conf\n');
  assert.equal((await mailcove('queue', 'suppress', 'rm', 'mailcove', 'bounce@example.net')).code, 0);
  assert.equal((await mailcove('queue', 'suppress', 'rm', 'mailcove', 'bounce@example.net')).code, 1);

  const added = await mailcove('queue', 'holdrules', 'add', '--recipient-domain', 'example.net');
  assert.match(added.stdout, /^hold rule 1 added: account \*, sender domain \*, recipient domain example.net;/);
  assert.match((await mailcove('queue', 'holdrules', 'list')).stdout, /\n1\s+\*\s+\*\s+example.net\s+\S+Z\n$/);
  assert.equal((await mailcove('queue', 'holdrules', 'rm', '1')).code, 0);
  assert.equal((await mailcove('queue', 'holdrules', 'list')).stdout, 'no hold rules\n');
});

withQueue('without a running server the command asks whether mailcove is running', async (f, mailcove) => {
  await f.control.close();
  f.control = { close: async () => {} };
  const r = await mailcove('queue', 'list');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `mailcove queue list: is mailcove running? no control socket at ${f.path}\n`);
});

test('times are ISO 8601 or signed durations from now', () => {
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('-1h30m'), -5_400_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1x'), undefined);
  const now = Date.parse('2026-03-01T12:00:00Z');
  assert.equal(parseTime('at', '2h', now), '2026-03-01T14:00:00.000Z');
  assert.equal(parseTime('at', '2026-03-02T00:00:00+01:00', now), '2026-03-01T23:00:00.000Z');
  assert.throws(() => parseTime('at', 'tomorrow', now), /not an ISO 8601 time/);
  assert.throws(() => parseTime('submitted-before', '1d', now, true), /for 1d ago write -1d/);
});
