// localserve mode: every recipient reaches the one account, plaintext AUTH on loopback,
// and simulated failures chosen by the localpart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smtpFixture } from './testfixture.ts';

const localDomains = `domains:\n  localhost:\n    localpartCatchallSeparator: +\naccounts:\n  mailcove:\n    domain: localhost\n    destinations:\n      mailcove@localhost: {}\n`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('localserve: any recipient, MX or submission, is delivered to the account; AUTH without TLS on loopback', async () => {
  const f = await smtpFixture({ domains: localDomains, localserve: true });
  try {
    const mx = await f.connect('smtp', { ehlo: 'client.example' });
    await mx.transaction('app@example.net', ['anyone@anywhere.example'], 'Subject: mx\r\n\r\nx');
    mx.close();
    const sub = await f.connect('submission', { ehlo: 'client.example' });
    await sub.command(`AUTH PLAIN ${b64('\0mailcove\0test1234 secret')}`, 235);
    await sub.transaction('noreply@myapp.example', ['customer@example.com'], 'From: <noreply@myapp.example>\r\nSubject: submitted\r\n\r\nx');
    sub.close();
    // Submissions go through the queue, which delivers them back into the account (issue 5).
    let inbox: string[] = [];
    for (let i = 0; i < 100 && inbox.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
      inbox = await f.messages('mailcove');
    }
    assert.equal(inbox.length, 2);
    assert.ok(inbox.some((m) => /Subject: submitted/.test(m)));
    assert.equal((await f.store.queue.list()).length, 0);
    const [retired] = await f.store.queue.listRetired();
    assert.equal(retired?.address, 'customer@example.com');
    assert.equal(retired?.success, true);
    assert.equal(retired?.attempts[0]?.transport, 'localserve');
  } finally {
    await f.done();
  }
});

test('localserve: simulated failures at MAIL, RCPT and DATA', async () => {
  const f = await smtpFixture({ domains: localDomains, localserve: true });
  try {
    const c = await f.connect('submission', { ehlo: 'client.example' });
    await c.command(`AUTH PLAIN ${b64('\0mailcove@localhost\0test1234 secret')}`, 235);
    await c.command('MAIL FROM:<mailfromtempfail@localhost>', 451, /simulated/);
    await c.command('MAIL FROM:<me@localhost>', 250);
    await c.command('RCPT TO:<rcptto550@localhost>', 550, /simulated/);
    await c.command('RCPT TO:<rcptto421@localhost>', 421); // 421 closes, as a real server's would
    await c.closedByServer();
    const d = await f.connect('submission', { ehlo: 'client.example' });
    await d.command(`AUTH PLAIN ${b64('\0mailcove\0test1234 secret')}`, 235);
    for (const [rcpt, code] of [['permfail', 550], ['tempfail', 451], ['552', 552]] as const) {
      await d.command('MAIL FROM:<me@localhost>', 250);
      await d.command(`RCPT TO:<${rcpt}@localhost>`, 250);
      await d.command('DATA', 354);
      d.write('From: <me@localhost>\r\n\r\nx\r\n.\r\n');
      await d.expect(code, /simulated/);
    }
    await d.command('MAIL FROM:<me@localhost>', 250);
    await d.command('RCPT TO:<timeout@localhost>', 250);
    await d.command('DATA', 354);
    const started = Date.now();
    d.write('From: <me@localhost>\r\n\r\nx\r\n.\r\n');
    await d.expect(421, /timeout/);
    assert.ok(Date.now() - started >= 180);
    assert.equal((await f.messages('mailcove')).length, 0);
  } finally {
    await f.done();
  }
});
