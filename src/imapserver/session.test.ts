// Transcript tests of the IMAP session: states, literals (split across packets, LITERAL+,
// refused sizes), pipelining, authentication (LOGIN, SASL-IR, SCRAM, PREAUTH by client
// certificate), STARTTLS, COMPRESS, and errors that leave the session usable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { createDeflateRaw, createInflateRaw, constants as zc } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { imapFixture, testPassword } from './testfixture.ts';
import { ImapTestClient } from './testclient.ts';
import { scramClient } from '../sasl/index.ts';
import { makeSelfSigned, publicKeyFingerprint } from '../tls/index.ts';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

test('greeting, CAPABILITY before and after login, commands in the wrong state', async () => {
  const f = await imapFixture();
  try {
    const c = await f.connect();
    assert.match(c.greeting, /^\* OK mail\.example\.com Mailcove IMAP ready$/);
    let r = await c.run('CAPABILITY');
    assert.match(r.untagged[0]!, /^\* CAPABILITY IMAP4rev2 IMAP4rev1 STARTTLS AUTH=SCRAM-SHA-256 .*AUTH=PLAIN LITERAL\+ .*SASL-IR /);
    assert.doesNotMatch(r.untagged[0]!, /LOGINDISABLED|AUTH=LOGIN|COMPRESS/);
    r = await c.run('SELECT INBOX');
    assert.equal(r.tagged, 'BAD SELECT not allowed before authentication');
    r = await c.run('FROB');
    assert.equal(r.tagged, 'BAD unknown command FROB');
    r = await c.run(`LOGIN mjl@example.com "${testPassword}"`);
    assert.match(r.tagged, /^OK \[CAPABILITY IMAP4rev2 .*COMPRESS=DEFLATE.*\] logged in$/);
    r = await c.run(`LOGIN mjl@example.com "${testPassword}"`);
    assert.equal(r.tagged, 'BAD LOGIN not allowed without a selected mailbox');
    r = await c.run('STORE 1 +FLAGS (\\Seen)');
    assert.equal(r.tagged, 'BAD STORE not allowed without a selected mailbox');
    r = await c.run('EXPUNGE');
    assert.equal(r.tagged, 'BAD EXPUNGE not allowed without a selected mailbox');
    assert.equal((await c.run('NOOP')).tagged, 'OK NOOP completed');
  } finally {
    await f.done();
  }
});

test('without TLS outside localserve: LOGINDISABLED, LOGIN refused, STARTTLS then LOGIN works', async () => {
  const f = await imapFixture({ localserve: false });
  try {
    const c = await f.connect();
    let r = await c.run('CAPABILITY');
    assert.match(r.untagged[0]!, / STARTTLS LOGINDISABLED /);
    assert.doesNotMatch(r.untagged[0]!, /AUTH=PLAIN/);
    r = await c.run(`LOGIN mjl@example.com "${testPassword}"`);
    assert.equal(r.tagged, 'NO [PRIVACYREQUIRED] LOGIN needs TLS: use STARTTLS first');
    r = await c.run('AUTHENTICATE PLAIN');
    assert.equal(r.tagged, 'NO [PRIVACYREQUIRED] this mechanism needs TLS: use STARTTLS first');
    // RFC 9051 §6.2.1: after STARTTLS, data the client pipelined in plaintext is discarded.
    c.write('s1 STARTTLS\r\ns2 NOOP\r\n');
    assert.equal(await c.line(), 's1 OK begin TLS negotiation now');
    const secure = tlsConnect({ socket: c.socket, rejectUnauthorized: false });
    await new Promise((resolve) => secure.once('secureConnect', resolve));
    c.socket.removeAllListeners('data');
    const t = await ImapTestClient.wrap(secure);
    r = await t.run('CAPABILITY');
    assert.match(r.untagged[0]!, /AUTH=PLAIN/);
    assert.doesNotMatch(r.untagged[0]!, /STARTTLS|LOGINDISABLED/);
    r = await t.run(`LOGIN mjl@example.com "${testPassword}"`);
    assert.match(r.tagged, /^OK /);
    assert.ok(!r.all.some((l) => l.startsWith('s2')), 'the plaintext NOOP was not answered');
    t.close();
  } finally {
    await f.done();
  }
});

test('literals: synchronizing, split across packets, LITERAL+, refused sizes', async () => {
  const f = await imapFixture({ context: { limits: { maxLine: 1000, maxCommand: 4096, maxMessage: 2000, memoryLiteral: 100, maxConnectionsPerIP: 0, maxErrors: 50 } } });
  try {
    const c = await f.connect();
    // A synchronizing literal gets "+" and may arrive in pieces.
    c.write('a1 LOGIN {15}\r\n');
    assert.match(await c.line(), /^\+ /);
    c.write('mjl@exam');
    await sleep(20);
    c.write('ple.com');
    await sleep(20);
    c.write(` {${testPassword.length}+}\r\n${testPassword.slice(0, 4)}`);
    await sleep(20);
    c.write(`${testPassword.slice(4)}\r\n`);
    assert.match((await c.until('a1')).at(-1)!, /^a1 OK /);
    // Too large for a command: refused without a continuation, the session goes on.
    c.write('a2 SELECT {5000}\r\n');
    assert.equal(await c.line(), 'a2 BAD [TOOBIG] literal too large');
    assert.equal((await c.run('NOOP')).tagged, 'OK NOOP completed');
    // APPEND: over APPENDLIMIT is NO [TOOBIG] (RFC 7889); a message above memoryLiteral goes through a spool file.
    let r = await c.run('APPEND INBOX {2001}');
    assert.equal(r.tagged, 'NO [TOOBIG] message larger than APPENDLIMIT 2000');
    const msg = `Subject: spooled\r\n\r\n${'x'.repeat(300)}\r\n`;
    r = await c.run(`APPEND INBOX (\\Seen) {${msg.length}}\r\n${msg}`);
    assert.match(r.tagged, /^OK \[APPENDUID \d+ 1\] APPEND completed$/);
    const rows = await (await f.account()).messages('INBOX');
    assert.equal(rows[0]!.size, msg.length);
    assert.deepEqual(rows[0]!.flags, ['\\Seen']);
    // MULTIAPPEND: message literals beyond memoryLiteral go to spool files, and one command carries at most ten APPENDLIMITs.
    const m19 = `Subject: m\r\n\r\n${'y'.repeat(1880)}\r\n`;
    r = await c.run(`APPEND INBOX ${Array.from({ length: 10 }, () => `{${m19.length}+}\r\n${m19}`).join(' ')}`);
    assert.match(r.tagged, /^OK \[APPENDUID \d+ 2:11\]/);
    r = await c.run(`APPEND INBOX ${Array.from({ length: 10 }, () => `{${m19.length}+}\r\n${m19}`).join(' ')} {${m19.length}}`);
    assert.equal(r.tagged, 'NO [TOOBIG] messages of one command larger than 20000 octets');
    assert.equal((await (await f.account()).messageMeta('INBOX')).length, 11, 'the refused MULTIAPPEND added nothing');
    // A non-synchronizing literal that is too large: BAD and the connection closes (RFC 7888 §4).
    c.write('a9 SELECT {5000+}\r\n');
    const last = await c.closedByServer();
    assert.deepEqual(last, ['a9 BAD [TOOBIG] literal too large', '* BYE closing connection after refused literal']);
    assert.deepEqual(await f.imap.addresses.length, 2);
  } finally {
    await f.done();
  }
});

test('pipelined commands are answered in order; errors keep the session usable', async () => {
  const f = await imapFixture();
  try {
    const c = await f.connect({ login: 'mjl' });
    c.write('p1 SELECT INBOX\r\np2 COPY 1 Trash\r\np3 CREATE "A B"\r\np4 STATUS "A B" (MESSAGES)\r\np5 NOOP\r\n');
    const lines = await c.until('p5');
    const tags = lines.filter((l) => /^p\d /.test(l));
    assert.deepEqual(tags, ['p1 OK [READ-WRITE] SELECT completed', 'p2 BAD mailbox is empty, no sequence numbers are valid', 'p3 OK CREATE completed', 'p4 OK STATUS completed', 'p5 OK NOOP completed']);
    assert.ok(lines.includes('* STATUS "A B" (MESSAGES 0)'));
    let r = await c.run('STORE 1:* +FLAGS (\\Seen');
    assert.equal(r.tagged, 'BAD syntax error: expected ")" at end of command');
    r = await c.run('STORE 1 +FLAGS (\\Frob)');
    assert.equal(r.tagged, 'BAD unknown system flag \\Frob');
    r = await c.run('SELECT');
    assert.equal(r.tagged, 'BAD syntax error: expected a space at end of command');
    assert.equal((await c.run('NOOP')).tagged, 'OK NOOP completed');
  } finally {
    await f.done();
  }
});

test('AUTHENTICATE: PLAIN with SASL-IR and without, SCRAM-SHA-256, failures and cancel', async () => {
  const f = await imapFixture();
  try {
    let c = await f.connect();
    let r = await c.run(`AUTHENTICATE PLAIN ${b64(`\0mjl@example.com\0${testPassword}`)}`);
    assert.match(r.tagged, /^OK \[CAPABILITY .*\] logged in$/);
    c = await f.connect();
    r = await c.run(`AUTHENTICATE PLAIN ${b64('\0mjl@example.com\0wrong')}`);
    assert.equal(r.tagged, 'NO [AUTHENTICATIONFAILED] invalid credentials');
    // Without initial response: an empty challenge, then the response.
    c.write('a2 AUTHENTICATE PLAIN\r\n');
    assert.equal(await c.line(), '+ ');
    c.write('*\r\n');
    assert.equal(await c.line(), 'a2 BAD authentication cancelled');
    c.write('a3 AUTHENTICATE PLAIN\r\n');
    assert.equal(await c.line(), '+ ');
    c.write(`${b64(`\0other@example.com\0${testPassword}`)}\r\n`);
    assert.match(await c.line(), /^a3 OK \[CAPABILITY/);
    // SCRAM-SHA-256 with an initial response (RFC 7677).
    c = await f.connect();
    const scram = scramClient({ hash: 'sha256', username: 'mjl@example.com', password: testPassword });
    c.write(`a4 AUTHENTICATE SCRAM-SHA-256 ${b64(scram.first())}\r\n`);
    const first = await c.line();
    assert.match(first, /^\+ /);
    c.write(`${b64(await scram.final(Buffer.from(first.slice(2), 'base64')))}\r\n`);
    const fin = await c.line();
    assert.match(fin, /^\+ /);
    assert.ok(scram.verify(Buffer.from(fin.slice(2), 'base64')), 'server signature verifies');
    c.write('\r\n');
    assert.match(await c.line(), /^a4 OK \[CAPABILITY/);
    r = await c.run('AUTHENTICATE PLAIN');
    assert.equal(r.tagged, 'BAD already authenticated');
    c = await f.connect();
    r = await c.run('AUTHENTICATE FROB');
    assert.equal(r.tagged, 'NO [CANNOT] mechanism FROB not supported');
    r = await c.run('AUTHENTICATE PLAIN !!!');
    assert.equal(r.tagged, 'BAD invalid base64 initial response');
  } finally {
    await f.done();
  }
});

test('a registered TLS client certificate: PREAUTH on imaps, AUTHENTICATE EXTERNAL; noIMAPPreauth keys log in with EXTERNAL', async () => {
  const f = await imapFixture();
  try {
    const make = async (name: string, noIMAPPreauth: boolean) => {
      const { keyPEM, certPEM } = await makeSelfSigned({ names: [name] });
      const cert = new X509Certificate(certPEM);
      await f.store.auth.addTlsPublicKey({ fingerprint: publicKeyFingerprint(cert), name, account: 'mjl', loginAddress: 'mjl@example.com', noIMAPPreauth, certDER: cert.raw.toString('base64'), created: new Date().toISOString() });
      return { key: keyPEM, cert: certPEM };
    };
    const pre = await make('laptop', false);
    let c = await ImapTestClient.connect(f.port('imaps'), { tls: pre });
    assert.match(c.greeting, /^\* PREAUTH .*logged in as mjl@example\.com/);
    let r = await c.run('SELECT INBOX');
    assert.match(r.tagged, /^OK \[READ-WRITE\]/);
    c.close();
    c = await ImapTestClient.connect(f.port('imaps'), { tls: pre });
    r = await c.run('AUTHENTICATE EXTERNAL =');
    assert.match(r.tagged, /^OK \[CAPABILITY/);
    c.close();
    c = await ImapTestClient.connect(f.port('imaps'), { tls: pre });
    r = await c.run(`AUTHENTICATE PLAIN ${b64(`\0other@example.com\0${testPassword}`)}`);
    assert.equal(r.tagged, 'NO [AUTHORIZATIONFAILED] already logged in as another account');
    r = await c.run(`AUTHENTICATE PLAIN ${b64(`\0mjl@example.com\0${testPassword}`)}`);
    assert.match(r.tagged, /^OK \[CAPABILITY/);
    c.close();
    const nopre = await make('phone', true);
    c = await ImapTestClient.connect(f.port('imaps'), { tls: nopre });
    assert.match(c.greeting, /^\* OK /);
    r = await c.run('CAPABILITY');
    assert.match(r.untagged[0]!, /AUTH=EXTERNAL/);
    r = await c.run('AUTHENTICATE EXTERNAL =');
    assert.match(r.tagged, /^OK \[CAPABILITY/);
    c.close();
  } finally {
    await f.done();
  }
});

test('COMPRESS=DEFLATE: both directions compressed after the OK', async () => {
  const f = await imapFixture();
  try {
    const c = await f.connect({ login: 'mjl' });
    const r = await c.run('COMPRESS DEFLATE');
    assert.equal(r.tagged, 'OK DEFLATE active');
    const deflate = createDeflateRaw();
    const inflate = createInflateRaw();
    c.socket.removeAllListeners('data');
    c.socket.pipe(inflate);
    deflate.pipe(c.socket);
    const z = await ImapTestClient.wrap(inflate, (d) => {
      deflate.write(d);
      deflate.flush(zc.Z_SYNC_FLUSH);
    });
    const caps = await z.run('CAPABILITY');
    assert.doesNotMatch(caps.untagged[0]!, /COMPRESS=DEFLATE/);
    assert.equal((await z.run('COMPRESS DEFLATE')).tagged, 'NO [COMPRESSIONACTIVE] compression already active');
    const list = await z.run('LIST "" INBOX');
    assert.deepEqual(list.all.slice(-2), ['* LIST (\\HasNoChildren) "/" "INBOX"', `${list.all.at(-1)!.split(' ')[0]} OK LIST completed`]);
    // A response larger than the deflate stream's buffer (a regression: the flush once waited for a 'drain' that had already fired).
    await Promise.all(Array.from({ length: 600 }, (_, i) => f.deliver('INBOX', `Subject: m${i}\r\n\r\n${'body '.repeat(80)}\r\n`)));
    await z.run('SELECT INBOX');
    const big = await z.run('UID FETCH 1:* (BODY.PEEK[])', 10_000);
    assert.equal(big.untagged.length, 600);
    assert.equal(big.tagged, 'OK UID FETCH completed');
  } finally {
    await f.done();
  }
});

test('limits: idle timeout before login says BYE; per-IP connections; failed logins refused after the limit; too many errors end the session', async () => {
  const { authFailureLimiter } = await import('../sasl/index.ts');
  const short = await imapFixture({ context: { timeouts: { preAuthMs: 300, idleMs: 60_000 } } });
  try {
    const idle = await short.connect();
    assert.deepEqual(await idle.closedByServer(2000), ['* BYE [UNAVAILABLE] autologout; idle for too long']);
  } finally {
    await short.done();
  }
  const f = await imapFixture({
    localserve: true,
    context: {
      limits: { maxLine: 1000, maxCommand: 4096, maxMessage: 2000, memoryLiteral: 100, maxConnectionsPerIP: 3, maxErrors: 3 },
      authFailures: authFailureLimiter({ delayMs: 0, limits: [{ windowMs: 60_000, limits: [2, 10, 10] }] }),
    },
  });
  try {
    const held = [await f.connect(), await f.connect(), await f.connect()];
    const refused = await f.connect();
    assert.equal(refused.greeting, '* BYE [UNAVAILABLE] too many connections from your address');
    for (const h of held) h.close();
    await new Promise((r) => setTimeout(r, 50));
    const c = await f.connect();
    assert.equal((await c.run('LOGIN mjl wrong')).tagged, 'NO [AUTHENTICATIONFAILED] invalid credentials');
    assert.equal((await c.run('LOGIN mjl wrong')).tagged, 'NO [AUTHENTICATIONFAILED] invalid credentials');
    assert.equal((await c.run(`LOGIN mjl "${testPassword}"`)).tagged, 'NO [UNAVAILABLE] too many failed logins from your network, try again later');
    for (let i = 0; i < 3; i++) assert.match((await c.run('FROB')).tagged, /^BAD/);
    c.write('x FROB\r\n');
    assert.deepEqual(await c.closedByServer(), ['x BAD unknown command FROB', '* BYE too many errors']);
  } finally {
    await f.done();
  }
});
