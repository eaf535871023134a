// RCPT TO and delivery rules: addresses, sub-addressing, catch-all, aliases, rulesets,
// unknown users, relaying, recipient limits, quota, SMTPUTF8.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smtpFixture, type SmtpFixture } from './testfixture.ts';

async function count(f: SmtpFixture, account: string, mailbox = 'INBOX'): Promise<number> {
  return (await f.messages(account, mailbox)).length;
}

test('unknown users get 550 5.1.1, foreign domains 550 5.7.1 (no relaying)', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.command('MAIL FROM:<a@example.net>', 250);
    await c.command('RCPT TO:<nobody@example.com>', 550, /5\.1\.1/);
    await c.command('RCPT TO:<someone@elsewhere.example>', 550, /5\.7\.1/);
    await c.command('RCPT TO:<mjl@example.com>', 250);
    c.close();
  } finally {
    await f.done();
  }
});

test('sub-addresses, case, catch-all and <postmaster> reach their accounts', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.transaction('a@example.net', ['mjl+news@example.com', 'MJL@Example.COM'], 'Subject: x\r\n\r\nx');
    await c.transaction('a@example.net', ['anything@example.org'], 'Subject: catchall\r\n\r\nx');
    await c.transaction('a@example.net', ['postmaster'], 'Subject: pm\r\n\r\nx');
    assert.equal(await count(f, 'mjl'), 2); // two addresses of mjl in one transaction make one copy; postmaster the second
    assert.equal(await count(f, 'other'), 1);
    c.close();
  } finally {
    await f.done();
  }
});

test('an alias delivers one copy to each member account; a members-only alias refuses outsiders and unverified members', async () => {
  const { MemoryResolver } = await import('../dns/index.ts');
  const resolver = new MemoryResolver();
  const f = await smtpFixture({ resolver });
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.transaction('a@example.net', ['team@example.com'], 'Subject: team\r\n\r\nx');
    assert.equal(await count(f, 'mjl'), 1);
    assert.equal(await count(f, 'other'), 1);
    await c.command('MAIL FROM:<a@example.net>', 250);
    await c.command('RCPT TO:<closed@example.com>', 550, /only members/);
    await c.command('RSET', 250);
    await c.transaction('other@example.com', ['closed@example.com'], 'Subject: claimed member\r\n\r\nx', 550, /only verified members/); // no SPF or DKIM: anyone could say so
    resolver.addTXT('example.com', 'v=spf1 ip4:127.0.0.1 -all');
    await c.transaction('other@example.com', ['closed@example.com'], 'Subject: member\r\n\r\nx'); // SPF verifies example.com for 127.0.0.1
    assert.equal(await count(f, 'other'), 2);
    c.close();
  } finally {
    await f.done();
  }
});

test('destination mailbox and header rulesets choose the mailbox, created on first use', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.transaction('a@example.net', ['news@example.com'], 'Subject: plain\r\n\r\nx');
    await c.transaction('a@example.net', ['news@example.com'], 'List-Id: <very.important.example>\r\nSubject: listed\r\n\r\nx');
    assert.equal(await count(f, 'mjl', 'News'), 1);
    assert.equal(await count(f, 'mjl', 'Important'), 1);
    c.close();
  } finally {
    await f.done();
  }
});

test('more recipients than RCPTMAX get 452 4.5.3', async () => {
  const f = await smtpFixture({ context: { limits: { maxMessageSize: 1 << 20, maxRecipients: 2, maxConnectionsPerIP: 10, maxCommandLine: 4096, maxErrors: 50, maxReceived: 100 } } });
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.command('MAIL FROM:<a@example.net>', 250);
    await c.command('RCPT TO:<mjl@example.com>', 250);
    await c.command('RCPT TO:<other@example.com>', 250);
    await c.command('RCPT TO:<team@example.com>', 452, /4\.5\.3/);
    c.close();
  } finally {
    await f.done();
  }
});

test('a full mailbox gets 452 4.2.2 at RCPT; a message larger than the quota 552 5.2.2', async () => {
  const f = await smtpFixture();
  try {
    const a = await f.store.openAccount('mjl');
    await a.setQuota(600);
    await a.close();
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.transaction('a@example.net', ['mjl@example.com'], `Subject: big\r\n\r\n${'x'.repeat(700)}`, 552, /5\.2\.2/);
    await c.transaction('a@example.net', ['mjl@example.com'], 'Subject: fits\r\n\r\nx');
    const b = await f.store.openAccount('mjl');
    await b.setQuota(1);
    await b.close();
    await c.command('MAIL FROM:<a@example.net>', 250);
    await c.command('RCPT TO:<mjl@example.com>', 452, /4\.2\.2/);
    c.close();
  } finally {
    await f.done();
  }
});

test('UTF-8 addresses need SMTPUTF8; with it they are delivered, IDNA domains match', async () => {
  const f = await smtpFixture({
    domains: `domains:\n  bücher.example: {}\naccounts:\n  joerg:\n    domain: bücher.example\n    destinations:\n      jörg@bücher.example: {}\n`,
  });
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.command('MAIL FROM:<a@example.net>', 250);
    c.send(Buffer.from('RCPT TO:<jörg@bücher.example>'));
    const r = await c.reply();
    assert.ok(r.code === 553 || r.code === 501, `got ${r.code}`);
    await c.command('RSET', 250);
    await c.command('MAIL FROM:<a@example.net> SMTPUTF8', 250);
    c.send(Buffer.from('RCPT TO:<jörg@xn--bcher-kva.example>'));
    await c.expect(250);
    await c.command('DATA', 354);
    c.write(Buffer.from('Subject: grüße\r\n\r\nhallo\r\n.\r\n'));
    await c.expect(250);
    const [m] = await f.messages('joerg');
    assert.match(m!, /with UTF8SMTP /);
    assert.match(m!, /Subject: grüße/);
    c.close();
  } finally {
    await f.done();
  }
});
