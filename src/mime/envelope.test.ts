import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEnvelope } from './envelope.ts';

const header = Buffer.from(
  [
    'Date: Fri, 21 Nov 1997 09:55:06\r\n -0600',
    'From: =?ISO-8859-1?Q?Andr=E9?= Pirard <pirard@vm1.ulg.ac.be>',
    'To: Mary Smith <mary@x.test>, friends: a@b.test, c@d.test;',
    'Cc: "Joe" <joe@y.test>',
    'Subject: =?UTF-8?B?w6nDqMOg?=\r\n =?KOI8-R?Q?=F0=D2=C9=D7=C5=D4?=',
    'Message-ID: <1234@local.machine.example>',
    'In-Reply-To: <3456@example.net>',
    '',
    'body: not a header',
    '',
  ].join('\r\n'),
);

describe('parseEnvelope', () => {
  test('raw values for IMAP, decoded subject and names for display', () => {
    const e = parseEnvelope(header);
    assert.equal(e.date, 'Fri, 21 Nov 1997 09:55:06 -0600');
    assert.equal(e.subject, '=?UTF-8?B?w6nDqMOg?= =?KOI8-R?Q?=F0=D2=C9=D7=C5=D4?=');
    assert.equal(e.subjectText, 'éèàПривет');
    assert.equal(e.messageId, '<1234@local.machine.example>');
    assert.equal(e.inReplyTo, '<3456@example.net>');
    assert.equal(e.from?.[0]?.name, '=?ISO-8859-1?Q?Andr=E9?= Pirard');
    assert.equal(e.from?.[0]?.nameText, 'André Pirard');
    assert.deepEqual(e.to?.map((a) => [a.mailbox, a.host]), [['mary', 'x.test'], ['friends', null], ['a', 'b.test'], ['c', 'd.test'], [null, null]]);
    assert.deepEqual(e.cc?.map((a) => [a.name, a.mailbox, a.host]), [['Joe', 'joe', 'y.test']]);
    assert.equal(e.bcc, null);
  });

  test('sender and reply-to default to from when absent or empty (RFC 9051 §7.5.2)', () => {
    const e = parseEnvelope(header);
    assert.deepEqual(e.sender, e.from);
    assert.deepEqual(e.replyTo, e.from);
    const withEmpty = parseEnvelope(Buffer.from('From: a@b.test\nSender:\nReply-To: r@b.test\n\n'));
    assert.deepEqual(withEmpty.sender?.map((a) => a.mailbox), ['a']);
    assert.deepEqual(withEmpty.replyTo?.map((a) => a.mailbox), ['r']);
  });

  test('missing fields are NIL and the first of repeated fields wins', () => {
    const e = parseEnvelope(Buffer.from('Subject: one\nSubject: two\nX-Other: y\n'));
    assert.equal(e.subject, 'one');
    assert.equal(e.date, null);
    assert.equal(e.from, null);
    assert.equal(e.sender, null);
    assert.equal(e.replyTo, null);
    assert.equal(e.to, null);
    assert.equal(e.messageId, null);
  });

  test('8-bit and UTF-8 raw headers are read as text (RFC 6532, windows-1252 fallback)', () => {
    const e = parseEnvelope(Buffer.concat([Buffer.from('Subject: Gr\xfc\xdfe\r\nFrom: ', 'latin1'), Buffer.from('Jörg <jörg@bücher.example>\r\n\r\n', 'utf8')]));
    assert.equal(e.subject, 'Grüße');
    assert.deepEqual(e.from?.map((a) => [a.name, a.mailbox, a.host]), [['Jörg', 'jörg', 'bücher.example']]);
  });

  test('an empty or garbage header gives an all-NIL envelope without throwing', () => {
    for (const b of [Buffer.alloc(0), Buffer.from('\r\n\r\n'), Buffer.from([0xff, 0xfe, 0x00, 0x3a, 0x0a])]) {
      const e = parseEnvelope(b);
      assert.equal(e.subject, null);
      assert.equal(e.from, null);
    }
  });
});
