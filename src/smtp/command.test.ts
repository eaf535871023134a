// The command grammar: verbs, paths (quoted, UTF-8, IDNA, literals, source routes,
// postmaster), parameters and their errors, xtext.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mailboxPath, parseCommand, parseHelo, parseMailFrom, parseRcptTo, quoteLocalpart } from './command.ts';
import { xtextDecode, xtextEncode, utf8AddrXtextDecode } from './xtext.ts';
import { formatReply, isSmtpError } from './reply.ts';

const all = new Set(['SIZE', 'BODY', 'SMTPUTF8', 'RET', 'ENVID', 'AUTH', 'REQUIRETLS', 'HOLDFOR', 'HOLDUNTIL', 'NOTIFY', 'ORCPT']);
const o = { extensions: all };

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isSmtpError(e)) return `${e.code} ${e.enhanced}`;
    throw e;
  }
  return 'ok';
}

test('parseCommand uppercases the verb and keeps UTF-8 arguments', () => {
  assert.deepEqual(parseCommand(Buffer.from('mail FROM:<a@b.example>  ')), { verb: 'MAIL', args: 'FROM:<a@b.example>' });
  assert.deepEqual(parseCommand(Buffer.from('QUIT')), { verb: 'QUIT', args: '' });
  assert.equal(parseCommand(Buffer.from('RCPT TO:<jörg@bücher.example>')).args, 'TO:<jörg@bücher.example>');
  assert.equal(code(() => parseCommand(Buffer.from(''))), '500 5.5.2');
  assert.equal(code(() => parseCommand(Buffer.from('MA1L x'))), '500 5.5.2');
  assert.equal(code(() => parseCommand(Buffer.from([0x4d, 0x41, 0x49, 0x4c, 0x20, 0xff]))), '500 5.5.2');
});

test('parseHelo takes one word and refuses empty arguments', () => {
  assert.equal(parseHelo(' client.example '), 'client.example');
  assert.equal(parseHelo('[127.0.0.1]'), '[127.0.0.1]');
  assert.equal(code(() => parseHelo('')), '501 5.5.4');
  assert.equal(code(() => parseHelo('a b')), '501 5.5.4');
});

test('MAIL FROM paths: plain, null, quoted, source route, literals, IDNA, tolerated space', () => {
  assert.equal(parseMailFrom('FROM:<>', o).path, null);
  assert.equal(parseMailFrom('from:<Mjl@Example.COM>', o).path?.address, 'Mjl@example.com');
  assert.equal(parseMailFrom('FROM: <a@b.example>', o).path?.address, 'a@b.example');
  const q = parseMailFrom('FROM:<"john \\"j\\" doe"@example.com>', o).path!;
  assert.equal(q.localpart, 'john "j" doe');
  assert.equal(q.address, '"john \\"j\\" doe"@example.com');
  assert.equal(parseMailFrom('FROM:<@relay1.example,@relay2.example:u@example.com>', o).path?.address, 'u@example.com');
  assert.equal(parseMailFrom('FROM:<u@[192.0.2.1]>', o).path?.domain, '[192.0.2.1]');
  assert.equal(parseMailFrom('FROM:<u@[IPv6:2001:DB8::1]>', o).path?.domain, '[IPv6:2001:db8::1]');
  const idna = parseMailFrom('FROM:<u@xn--bcher-kva.example>', o).path!;
  assert.equal(idna.domain, 'bücher.example');
  assert.equal(idna.asciiDomain, 'xn--bcher-kva.example');
  assert.equal(idna.utf8, false); // an A-label is ASCII on the wire
});

test('malformed paths get 501 5.1.7 (sender) or 501 5.1.3 (recipient)', () => {
  for (const bad of ['FROM:a@b.example', 'FROM:<a@b.example', 'FROM:<a@>', 'FROM:<@b.example>', 'FROM:<a..b@c.example>', 'FROM:<a@b..example>', 'FROM:<a@[300.1.1.1]>', 'FROM:<"unterminated@b.example>', 'FROM:<a@-b.example>', 'FROM:<a@xn--zz.example>', 'FROM:<a@b_c.example>', 'FROM:<@a,b:u@c.example>', 'FROM:<@:u@c.example>', 'FROM:<u@[IPv6:1.2.3.4]>', 'FROM:<u@[tag:x]>', 'FROM:<.a@b.example>', 'FROM:<a.@b.example>']) {
    assert.equal(code(() => parseMailFrom(bad, o)), '501 5.1.7', bad);
  }
  assert.equal(code(() => parseMailFrom('FRM:<a@b.example>', o)), '501 5.5.4');
  assert.equal(code(() => parseRcptTo('TO:<>', o)), '501 5.1.3');
  assert.equal(code(() => parseRcptTo('TO:<a b@c.example>', o)), '501 5.1.3');
});

test('UTF-8 addresses need SMTPUTF8 (553 5.6.7), in MAIL itself or from the transaction', () => {
  assert.equal(code(() => parseMailFrom('FROM:<jörg@example.com>', o)), '553 5.6.7');
  assert.equal(parseMailFrom('FROM:<jörg@example.com> SMTPUTF8', o).path?.localpart, 'jörg');
  assert.equal(code(() => parseRcptTo('TO:<jörg@bücher.example>', o)), '553 5.6.7');
  const r = parseRcptTo('TO:<jörg@Bücher.example>', { ...o, smtputf8: true }).path;
  assert.equal(r.address, 'jörg@bücher.example');
  assert.equal(r.asciiDomain, 'xn--bcher-kva.example');
});

test('<postmaster> without a domain is a valid recipient', () => {
  const p = parseRcptTo('TO:<Postmaster>', o).path;
  assert.equal(p.domain, '');
  assert.equal(p.address, 'postmaster');
});

test('MAIL parameters are parsed and checked', () => {
  const p = parseMailFrom('FROM:<a@b.example> SIZE=1000 BODY=8bitmime RET=hdrs ENVID=QQ+2B1 AUTH=<> REQUIRETLS HOLDFOR=60', o).params;
  assert.deepEqual(p, { smtputf8: false, requireTLS: true, size: 1000, body: '8BITMIME', ret: 'HDRS', envid: 'QQ+1', auth: '<>', holdFor: 60 });
  assert.equal(parseMailFrom('FROM:<a@b.example> HOLDUNTIL=2030-01-02T03:04:05Z', o).params.holdUntil?.toISOString(), '2030-01-02T03:04:05.000Z');
  const cases: Array<[string, string]> = [
    [' SIZE=big', '501 5.5.4'], [' SIZE', '501 5.5.4'], [' BODY=9BIT', '501 5.5.4'], [' RET=ALL', '501 5.5.4'], [' FOO=1', '555 5.5.4'],
    [' SIZE=1 SIZE=2', '501 5.5.4'], [' SMTPUTF8=yes', '501 5.5.4'], [' ENVID=a+zz', '501 5.5.4'], [' HOLDUNTIL=tomorrow', '501 5.5.4'],
    [' HOLDFOR=1 HOLDUNTIL=2030-01-02T03:04:05Z', '501 5.5.4'], [` ENVID=${'x'.repeat(101)}`, '501 5.5.4'],
  ];
  for (const [params, want] of cases) assert.equal(code(() => parseMailFrom(`FROM:<a@b.example>${params}`, o)), want, params);
  assert.equal(code(() => parseMailFrom('FROM:<a@b.example> SIZE=1', { extensions: new Set() })), '555 5.5.4'); // not offered (HELO session)
  assert.equal(code(() => parseMailFrom('FROM:<a@b.example>SIZE=1', o)), '501 5.5.4');
});

test('HOLDUNTIL in the past or the future is parsed; its range is left to the session (RFC 4865 §3)', () => {
  const past = parseMailFrom('FROM:<a@b.example> HOLDUNTIL=2001-02-03T04:05:06Z', o).params.holdUntil;
  assert.equal(past?.toISOString(), '2001-02-03T04:05:06.000Z');
  const future = parseMailFrom('FROM:<a@b.example> HOLDUNTIL=2999-12-31T23:00:00.5+02:00', o).params.holdUntil;
  assert.equal(future?.toISOString(), '2999-12-31T21:00:00.500Z');
  for (const bad of ['2030-02-31T00:00:00Z', '2030-13-01T00:00:00Z', '2030-01-01 00:00:00Z', '2030-01-01T00:00Z', '1234567890']) {
    assert.equal(code(() => parseMailFrom(`FROM:<a@b.example> HOLDUNTIL=${bad}`, o)), '501 5.5.4', bad);
  }
  assert.equal(code(() => parseMailFrom('FROM:<a@b.example> HOLDFOR=-1', o)), '501 5.5.4');
});

test('RCPT parameters: NOTIFY and ORCPT (xtext and utf-8)', () => {
  assert.deepEqual(parseRcptTo('TO:<a@b.example> NOTIFY=success,delay ORCPT=rfc822;a+2Bx@b.example', o).params, { notify: ['SUCCESS', 'DELAY'], orcpt: { addrType: 'rfc822', address: 'a+x@b.example' } });
  assert.equal(parseRcptTo('TO:<a@b.example> NOTIFY=NEVER', o).params.notify, 'NEVER');
  assert.equal(parseRcptTo('TO:<a@b.example> ORCPT=utf-8;j\\x{F6}rg@b.example', o).params.orcpt?.address, 'jörg@b.example');
  assert.equal(code(() => parseRcptTo('TO:<a@b.example> NOTIFY=NEVER,SUCCESS', o)), '501 5.5.4');
  assert.equal(code(() => parseRcptTo('TO:<a@b.example> NOTIFY=SOMETIMES', o)), '501 5.5.4');
  assert.equal(code(() => parseRcptTo('TO:<a@b.example> ORCPT=a@b.example', o)), '501 5.5.4');
  assert.equal(code(() => parseRcptTo('TO:<a@b.example> SIZE=1', o)), '555 5.5.4');
});

test('xtext round trips and refuses bad escapes', () => {
  for (const s of ['plain', 'a+b=c', 'über', ' space']) assert.equal(xtextDecode(xtextEncode(s)), s);
  assert.equal(xtextEncode('a+b=c'), 'a+2Bb+3Dc');
  assert.throws(() => xtextDecode('a+2b'));
  assert.throws(() => xtextDecode('a=b'));
  assert.equal(utf8AddrXtextDecode('\\x{1F600}x'), '😀x');
  assert.throws(() => utf8AddrXtextDecode('a+b'));
});

test('formatReply: single and multi-line, enhanced codes on each line, no injected line breaks', () => {
  assert.equal(formatReply(250, '2.0.0', 'OK').toString(), '250 2.0.0 OK\r\n');
  assert.equal(formatReply(250, undefined, ['host', 'SIZE 10']).toString(), '250-host\r\n250 SIZE 10\r\n');
  assert.equal(formatReply(550, '5.1.1', 'a\r\nb').toString(), '550-5.1.1 a\r\n550 5.1.1 b\r\n');
  assert.equal(formatReply(334, undefined, '').toString(), '334 \r\n');
  assert.equal(formatReply(500, undefined, 'x\u0000y').toString(), '500 x?y\r\n');
});

test('mailboxPath: parts become a path by the same grammar, quoted where needed; control characters and bad domains refused', () => {
  assert.equal(mailboxPath('a.b', 'Example.COM').address, 'a.b@example.com');
  assert.equal(mailboxPath('john "j" doe', 'example.com').address, '"john \\"j\\" doe"@example.com');
  assert.equal(mailboxPath('a..b', 'example.com').address, '"a..b"@example.com');
  const idna = mailboxPath('u', 'bücher.example');
  assert.deepEqual([idna.asciiDomain, idna.utf8], ['xn--bcher-kva.example', true]);
  assert.equal(mailboxPath('jörg', '[IPv6:2001:DB8::1]').address, 'jörg@[IPv6:2001:db8::1]');
  assert.equal(quoteLocalpart('x y'), '"x y"');
  for (const [local, domain] of [['a\r\nRCPT TO:<v@x.example>', 'y.example'], ['a\rb', 'y.example'], ['a\u0000b', 'y.example'], ['', 'y.example'], ['a', 'exa mple.com'], ['a', '-bad-.example'], ['a', 'x.example>z'], ['a', ''], ['a', 'b@c.example']]) {
    assert.throws(() => mailboxPath(local!, domain!), Error, JSON.stringify([local, domain]));
  }
});
