// Bounded fuzzing (seeded, about two seconds): the parser throws nothing but ImapError for
// any input, and a session fed random command sequences in every state answers each
// command with a tagged response, never crashes (the harness fails on uncaught errors),
// and stays usable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Parser } from './parser.ts';
import { isImapError } from './errors.ts';
import { imapFixture } from './testfixture.ts';
import { prng } from '../../test/prng.ts';

const tokens = ['(', ')', ' ', '"', '\\', '{', '}', '{3}', '{2+}', '~{1}', '*', '%', '$', ':', ',', '1', '2:*', '0', '4294967296', 'NIL', 'BODY', '[', ']', '<', '>', '.', 'HEADER.FIELDS', 'INBOX', 'ü', '\u0000', 'x', 'UID', 'FLAGS', '\\Seen', '-', '+'];

test('fuzz: parser productions throw only ImapError', () => {
  const rnd = prng(7);
  const deadline = Date.now() + 400;
  let n = 0;
  while (Date.now() < deadline) {
    let s = '';
    const len = Math.floor(rnd() * 14);
    for (let i = 0; i < len; i++) s += tokens[Math.floor(rnd() * tokens.length)];
    const b = Buffer.from(s);
    const runs: ((p: Parser) => unknown)[] = [(p) => p.sequenceSet(), (p) => p.astring(), (p) => p.flagList(true), (p) => p.list(() => p.astring(), true), (p) => p.date(), (p) => p.dateTime(), (p) => p.nstring(), (p) => p.listMailbox(), (p) => p.number(), (p) => [p.tag(), p.sp(), p.atom()]];
    for (const f of runs) {
      try {
        f(new Parser([b]));
      } catch (e) {
        assert.ok(isImapError(e), `non-IMAP error for ${JSON.stringify(s)}: ${String(e)}`);
      }
    }
    n++;
  }
  assert.ok(n > 1000);
});

const commands = [
  'NOOP', 'CAPABILITY', 'LOGIN mjl "test1234 secret"', 'LOGIN', 'SELECT INBOX', 'EXAMINE INBOX', 'SELECT Nope', 'CREATE F%d', 'DELETE F%d', 'RENAME F%d G%d', 'SUBSCRIBE F%d',
  'LIST "" *', 'LIST (SUBSCRIBED) "" %', 'LSUB "" *', 'STATUS INBOX (MESSAGES UIDNEXT)', 'STATUS INBOX ()', 'APPEND INBOX {%m+}\r\n%M', 'APPEND INBOX (\\Seen) {%m+}\r\n%M',
  'FETCH %s (FLAGS UID)', 'FETCH %s BODY[]', 'UID FETCH %s (BODYSTRUCTURE ENVELOPE)', 'STORE %s +FLAGS (\\Deleted)', 'STORE %s -FLAGS.SILENT (\\Seen $x)', 'UID STORE %s FLAGS ()',
  'COPY %s Archive', 'MOVE %s Trash', 'UID MOVE %s INBOX', 'EXPUNGE', 'UID EXPUNGE %s', 'SEARCH ALL', 'SEARCH UNSEEN', 'UID SEARCH RETURN (MIN MAX) ALL', 'CLOSE', 'UNSELECT',
  'ENABLE CONDSTORE', 'ENABLE QRESYNC', 'ENABLE UTF8=ACCEPT', 'ID NIL', 'NAMESPACE', 'GETQUOTAROOT INBOX', 'NOTIFY NONE', 'CHECK', 'UID REPLACE %s INBOX {%m+}\r\n%M',
];
const garbage = ['', ' ', '(', '"unterminated', 'FETCH', '1:', '\\', 'BODY[1.2.3', '{99999999999}', '*', '$', 'ü', '\u0001'];

test('fuzz: random command sequences in every state get tagged answers and leave the session usable', async () => {
  const f = await imapFixture({ context: { limits: { maxLine: 64 * 1024, maxCommand: 1024 * 1024, maxMessage: 1 << 20, memoryLiteral: 1024, maxConnectionsPerIP: 0, maxErrors: 1_000_000 } } });
  try {
    const rnd = prng(11);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
    const message = 'Subject: fuzz\r\n\r\nhello\r\n';
    const deadline = Date.now() + 1500;
    let sent = 0;
    const c = await f.connect();
    while (Date.now() < deadline) {
      let cmd = pick(commands)
        .replaceAll('%d', String(Math.floor(rnd() * 3)))
        .replaceAll('%s', pick(['1', '1:*', '*', '2,4', '$', '99', '0', '1:2']))
        .replaceAll('%m', String(message.length))
        .replaceAll('%M', message);
      if (rnd() < 0.2) cmd += pick(garbage);
      if (rnd() < 0.05) cmd = pick(garbage) + cmd;
      const tag = `z${sent++}`;
      const lines = await c.command(`${tag} ${cmd}`).catch((e: unknown) => { throw new Error(`${JSON.stringify(cmd)}: ${String(e)}`); });
      const last = lines.at(-1)!;
      assert.ok(last.startsWith(`${tag} OK`) || last.startsWith(`${tag} NO`) || last.startsWith(`${tag} BAD`) || /^\* (BAD|BYE)/.test(last), `${cmd} -> ${lines.join(' | ')}`);
      if (/^\* BYE/.test(last) || c.closed) break;
    }
    assert.ok(sent > 100, `only ${sent} commands`);
    const d = await f.connect();
    assert.equal((await d.run('NOOP')).tagged, 'OK NOOP completed');
  } finally {
    await f.done();
  }
});
