// DATA and BDAT: what gets stored (Received, Authentication-Results), message-end
// strictness against smuggling, size limits, loops, and BDAT's chunk accounting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smtpFixture } from './testfixture.ts';

const smallLimits = { maxMessageSize: 1000, maxRecipients: 100, maxConnectionsPerIP: 10, maxCommandLine: 4096, maxErrors: 50, maxReceived: 100 };

test('a message over DATA is stored with Received and Authentication-Results on top, dots unstuffed', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.transaction('sender@example.net', ['mjl@example.com'], 'From: <sender@example.net>\r\nSubject: dots\r\n\r\n..leading dot', 250, /2\.0\.0/);
    const [m] = await f.messages('mjl');
    assert.ok(m);
    assert.match(m, /^Received: from client\.example \(\[127\.0\.0\.1\]\)\r\n\tby mail\.example\.com \(Mailcove\) with ESMTP id \S+\r\n\tfor <mjl@example\.com>;\r\n\t\w{3}, /);
    assert.match(m, /\r\nAuthentication-Results: mail\.example\.com/);
    assert.match(m, /Subject: dots\r\n\r\n\.leading dot\r\n$/);
    c.close();
  } finally {
    await f.done();
  }
});

test('message-end smuggling sequences and bare CR are refused with 5xx; the session goes on', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    const variants: Array<[string, string]> = [
      ['LF.LF', 'Subject: a\r\n\r\nbody\n.\nMAIL FROM:<evil@example.net>\r\n'],
      ['CRLF.LF', 'Subject: a\r\n\r\nbody\r\n.\nMAIL FROM:<evil@example.net>\r\n'],
      ['LF.CRLF', 'Subject: a\r\n\r\nbody\n.\r\nMAIL FROM:<evil@example.net>\r\n'],
      ['CR.CR', 'Subject: a\r\n\r\nbody\r.\rMAIL FROM:<evil@example.net>\r\n'],
      ['bare CR', 'Subject: a\r\n\r\nbo\rdy\r\n'],
    ];
    for (const [name, body] of variants) {
      await c.command('MAIL FROM:<sender@example.net>', 250);
      await c.command('RCPT TO:<mjl@example.com>', 250);
      await c.command('DATA', 354);
      c.write(`${body}\r\n.\r\n`);
      const r = await c.expect(500);
      assert.match(r.text, /5\.5\.2/, name);
      await c.command('NOOP', 250); // still in sync: the smuggled "MAIL FROM" was message content
    }
    assert.equal((await f.messages('mjl')).length, 0);
    c.close();
  } finally {
    await f.done();
  }
});

test('bare LF line ends are normalised to CRLF', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.transaction('sender@example.net', ['mjl@example.com'], 'Subject: lf\n\nline one\nline two');
    const [m] = await f.messages('mjl');
    assert.match(m!, /Subject: lf\r\n\r\nline one\r\nline two\r\n$/);
    c.close();
  } finally {
    await f.done();
  }
});

test('messages over the size limit: 552 for SIZE= at MAIL, and 552 after DATA', async () => {
  const f = await smtpFixture({ context: { limits: smallLimits } });
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.command('MAIL FROM:<sender@example.net> SIZE=5000', 552, /5\.3\.4/);
    await c.command('MAIL FROM:<sender@example.net> SIZE=500', 250);
    await c.command('RCPT TO:<mjl@example.com>', 250);
    await c.command('DATA', 354);
    c.write(`Subject: big\r\n\r\n${'x'.repeat(78)}\r\n`.repeat(30) + '.\r\n');
    await c.expect(552, /5\.3\.4/);
    await c.command('NOOP', 250);
    assert.equal((await f.messages('mjl')).length, 0);
    c.close();
  } finally {
    await f.done();
  }
});

test('more than 100 Received fields is a loop: 554 5.4.6', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.command('MAIL FROM:<sender@example.net>', 250);
    await c.command('RCPT TO:<mjl@example.com>', 250);
    await c.command('DATA', 354);
    c.write('Received: from a by b; Sat, 28 Nov 2026 10:00:00 +0000\r\n'.repeat(101) + 'Subject: loop\r\n\r\nx\r\n.\r\n');
    await c.expect(554, /5\.4\.6/);
    c.close();
  } finally {
    await f.done();
  }
});

test('BDAT chunks make one message; BINARYMIME bodies are stored as sent', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.command('MAIL FROM:<sender@example.net> BODY=BINARYMIME', 250);
    await c.command('RCPT TO:<mjl@example.com>', 250);
    await c.command('DATA', 503, /BDAT/);
    const part1 = Buffer.from('Subject: binary\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n');
    const part2 = Buffer.from([0, 1, 2, 13, 10, 46, 13, 10, 255, 10, 13, 0]);
    c.write(Buffer.concat([Buffer.from(`BDAT ${part1.length}\r\n`), part1, Buffer.from(`BDAT ${part2.length} LAST\r\n`), part2]));
    await c.expect(250, new RegExp(`${part1.length} octets`));
    await c.expect(250, /delivered/);
    const a = await f.store.openAccount('mjl');
    try {
      const [row] = await a.messages('INBOX');
      const chunks: Buffer[] = [];
      for await (const x of await a.openMessage(row!.messageId)) chunks.push(x as Buffer);
      const stored = Buffer.concat(chunks);
      assert.ok(stored.subarray(stored.length - part1.length - part2.length).equals(Buffer.concat([part1, part2])));
    } finally {
      await a.close();
    }
    c.close();
  } finally {
    await f.done();
  }
});

test('BDAT outside a transaction still consumes its bytes, then 503; pipelined chunks after a failure too', async () => {
  const f = await smtpFixture({ context: { limits: smallLimits } });
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    c.write('BDAT 17\r\nMAIL FROM:<x@y>\r\n');
    await c.expect(503, /send MAIL first/);
    await c.command('NOOP', 250);
    await c.command('MAIL FROM:<sender@example.net>', 250);
    await c.command('RCPT TO:<mjl@example.com>', 250);
    const big = 'y'.repeat(1200);
    c.write(`BDAT ${big.length}\r\n${big}BDAT 4 LAST\r\nNOOP`);
    await c.expect(552, /5\.3\.4/);
    await c.expect(503); // the rest of the message is dropped: the transaction ended
    await c.command('NOOP', 250);
    await c.command('BDAT x', 501);
    c.close();
  } finally {
    await f.done();
  }
});

test('MX refuses a message failing DMARC with p=reject: 550 5.7.1', async () => {
  const { MemoryResolver } = await import('../dns/index.ts');
  const resolver = new MemoryResolver().addTXT('_dmarc.bank.example', 'v=DMARC1; p=reject').addTXT('bank.example', 'v=spf1 -all');
  const f = await smtpFixture({ resolver });
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.transaction('x@bank.example', ['mjl@example.com'], 'From: <ceo@bank.example>\r\nSubject: pay now\r\n\r\nx', 550, /5\.7\.1 rejected by the DMARC policy of bank\.example/);
    assert.equal((await f.messages('mjl')).length, 0);
    c.close();
  } finally {
    await f.done();
  }
});

test('odd messages are taken: empty, header-only, no header, 8-bit and NUL bytes', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    for (const m of ['', 'Subject: only a header', '\r\nbody without header', 'Subject: \xff\xfe 8-bit\r\n\r\n\u0000nul\r\n', 'not a header line\r\nSubject: x\r\n\r\nbody']) {
      await c.transaction('a@example.net', ['mjl@example.com'], Buffer.from(m, 'latin1'));
    }
    const stored = await f.messages('mjl');
    assert.equal(stored.length, 5);
    assert.ok(stored.every((s) => s.startsWith('Received: ')));
    c.close();
  } finally {
    await f.done();
  }
});

test('EHLO in the middle of BDAT ends the transaction: the next chunk has no transaction', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.command('MAIL FROM:<a@example.net>', 250);
    await c.command('RCPT TO:<mjl@example.com>', 250);
    c.write('BDAT 9\r\nSubject: ');
    await c.expect(250, /9 octets/);
    await c.command('EHLO client.example', 250);
    c.write('BDAT 7 LAST\r\nx\r\n\r\nx\r\n');
    await c.expect(503, /send MAIL first/);
    assert.equal((await f.messages('mjl')).length, 0);
    c.close();
  } finally {
    await f.done();
  }
});
