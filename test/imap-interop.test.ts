// The IMAP server against clients we did not write: imapflow (Node), Python's imaplib,
// mbsync (isync) syncing a 1 000-message mailbox to a Maildir both ways, and GNU SASL's
// gsasl. Each test drives the real protocol against a running server (imapFixture) and
// checks what the client observed against the store. Peers come from
// scripts/install-test-peers.sh; in CI (CI=true) a missing peer fails the test instead of
// skipping it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow, type ImapFlowEvents, type ImapFlowOptions } from 'imapflow';
import { imapFixture, testPassword, type ImapFixture } from '../src/imapserver/testfixture.ts';
import { makeSelfSigned, publicKeyFingerprint } from '../src/tls/index.ts';
import { prng } from './prng.ts';
import { imapFlagsOfMaildir, needs, readMaildir, run, type MaildirMessage } from './imappeers.ts';

const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, '\r\n'));

/** The stored bytes of every message of a mailbox, in UID order, with UID and flags. */
async function stored(f: ImapFixture, mailbox: string, account = 'mjl'): Promise<{ uid: number; flags: string[]; keywords: string[]; internalDate: Date; data: Buffer }[]> {
  const a = await f.account(account);
  const out = [];
  for (const m of await a.messages(mailbox)) {
    const chunks: Buffer[] = [];
    for await (const c of await a.openMessage(m.messageId)) chunks.push(c as Buffer);
    out.push({ uid: m.uid, flags: [...m.flags].sort(), keywords: m.keywords, internalDate: m.internalDate, data: Buffer.concat(chunks) });
  }
  return out;
}

// --- imapflow ---

/** A logged-in imapflow client, over STARTTLS unless `secure` (the fixture's certificate is self-signed). */
async function flow(f: ImapFixture, o: Partial<ImapFlowOptions> = {}): Promise<ImapFlow> {
  const c = new ImapFlow({
    host: '127.0.0.1', port: f.port('imap'), tls: { rejectUnauthorized: false }, auth: { user: 'mjl@example.com', pass: testPassword }, logger: false,
    ...(o.secure ? {} : { doSTARTTLS: true }), ...o,
  });
  await c.connect();
  return c;
}

/** The next event of a kind that matches, or a timeout naming what was awaited. */
function nextEvent<K extends keyof ImapFlowEvents>(c: ImapFlow, name: K, match: (e: ImapFlowEvents[K][0]) => boolean = () => true, ms = 5000): Promise<ImapFlowEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      c.off(name, on);
      reject(new Error(`no matching ${String(name)} event within ${ms} ms`));
    }, ms);
    const on = (e: ImapFlowEvents[K][0]) => {
      if (!match(e)) return;
      clearTimeout(timer);
      c.off(name, on);
      resolve(e);
    };
    c.on(name, on);
  });
}

const blob = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff)); // every byte value, not text
const multipart = crlf(`From: Mjl <mjl@example.com>
To: Other <other@example.com>
Cc: =?utf-8?q?J=C3=B6rg?= <joerg@example.com>
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= from imapflow
Date: Mon, 02 Mar 2026 10:00:00 +0100
Message-ID: <flow-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe aus K=C3=B6ln
--b1
Content-Type: application/octet-stream; name="blob.bin"
Content-Disposition: attachment; filename="blob.bin"
Content-Transfer-Encoding: base64

${blob.toString('base64').replace(/.{76}/g, '$&\n')}
--b1--
`);

const simple = (subject: string, n: number) => crlf(`From: Mjl <mjl@example.com>\nTo: other@example.com\nSubject: ${subject}\nMessage-ID: <simple-${n}@example.com>\n\nbody ${n}\n`);

test('imapflow: LIST, CREATE, APPEND with flags and internal date, STATUS', async () => {
  const f = await imapFixture();
  try {
    const c = await flow(f);
    const list = await c.list();
    assert.deepEqual(list.map((m) => m.path).sort(), ['Archive', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
    assert.equal(list.find((m) => m.path === 'Sent')?.specialUse, '\\Sent');
    const created = await c.mailboxCreate('Projects/Grüße');
    assert.equal(created.path, 'Projects/Grüße');
    assert.equal(created.created, true);
    assert.ok((await c.list()).some((m) => m.path === 'Projects/Grüße'));

    const date = new Date('2025-06-01T12:34:56Z');
    const appended = await c.append('Projects/Grüße', multipart, ['\\Seen', '\\Flagged', '$Important'], date);
    assert.ok(appended);
    assert.equal(appended.uid, 1);
    const second = await c.append('Projects/Grüße', simple('second', 2));
    assert.ok(second);
    assert.equal(second.uid, 2);
    assert.equal(second.uidValidity, appended.uidValidity);

    const status = await c.status('Projects/Grüße', { messages: true, uidNext: true, unseen: true, uidValidity: true, highestModseq: true });
    assert.ok(status);
    assert.equal(status.messages, 2);
    assert.equal(status.unseen, 1);
    assert.equal(status.uidNext, 3);
    assert.equal(status.uidValidity, appended.uidValidity);
    assert.equal(typeof status.highestModseq, 'bigint');

    const [m1, m2] = await stored(f, 'Projects/Grüße');
    assert.deepEqual(m1!.data, multipart);
    assert.deepEqual(m1!.flags, ['\\Flagged', '\\Seen']);
    assert.deepEqual(m1!.keywords, ['$Important']);
    assert.equal(m1!.internalDate.getTime(), date.getTime());
    assert.deepEqual(m2!.data, simple('second', 2));
    await c.logout();
  } finally {
    await f.done();
  }
});

test('imapflow: FETCH of BODYSTRUCTURE, ENVELOPE, source, partial source and BINARY body parts gives the appended bytes', async () => {
  const f = await imapFixture();
  try {
    const date = new Date('2025-06-01T12:34:56Z');
    const uid = await f.deliver('INBOX', multipart, { flags: ['\\Answered'], internalDate: date });
    const c = await flow(f, { port: f.port('imaps'), secure: true });
    await c.mailboxOpen('INBOX');
    const m = await c.fetchOne(String(uid), { uid: true, flags: true, size: true, internalDate: true, envelope: true, bodyStructure: true, source: true }, { uid: true });
    assert.ok(m);
    assert.equal(m.uid, uid);
    assert.deepEqual(m.source, multipart);
    assert.equal(m.size, multipart.length);
    assert.deepEqual([...m.flags!], ['\\Answered']);
    assert.equal(new Date(m.internalDate!).getTime(), date.getTime());
    assert.equal(m.envelope?.subject, 'Grüße from imapflow');
    assert.deepEqual(m.envelope?.from, [{ name: 'Mjl', address: 'mjl@example.com' }]);
    assert.deepEqual(m.envelope?.cc, [{ name: 'Jörg', address: 'joerg@example.com' }]);
    assert.equal(m.envelope?.messageId, '<flow-1@example.com>');
    assert.equal(new Date(m.envelope!.date!).toISOString(), '2026-03-02T09:00:00.000Z');
    const bs = m.bodyStructure!;
    assert.equal(bs.type, 'multipart/mixed');
    assert.equal(bs.parameters?.['boundary'], 'b1');
    const [text, att] = bs.childNodes!;
    assert.equal(text?.part, '1');
    assert.equal(text?.type, 'text/plain');
    assert.equal(text?.parameters?.['charset'], 'utf-8');
    assert.equal(text?.encoding, 'quoted-printable');
    assert.equal(text?.lineCount, 1);
    assert.equal(att?.part, '2');
    assert.equal(att?.type, 'application/octet-stream');
    assert.equal(att?.encoding, 'base64');
    assert.equal(att?.disposition, 'attachment');
    assert.equal(att?.dispositionParameters?.['filename'], 'blob.bin');
    const attBody = multipart.toString('latin1').split('\r\n\r\n').at(-1)!.split('\r\n--b1--')[0]!;
    assert.equal(att?.size, attBody.length); // RFC 2046 §5.1.1: the CRLF before the boundary belongs to the boundary
    // Partial source: BODY[]<start.length> (RFC 9051 §6.4.5).
    const part = await c.fetchOne(String(uid), { source: { start: 100, maxLength: 50 } }, { uid: true });
    assert.ok(part);
    assert.deepEqual(part.source, multipart.subarray(100, 150));
    const tail = await c.fetchOne(String(uid), { source: { start: multipart.length - 10, maxLength: 1000 } }, { uid: true });
    assert.ok(tail);
    assert.deepEqual(tail.source, multipart.subarray(multipart.length - 10));
    // BINARY[1] and BINARY[2]: the transfer encodings removed by the server (RFC 3516, RFC 9051 §6.4.5).
    const bin = await c.fetchOne(String(uid), { bodyParts: ['1', '2'] }, { uid: true, binary: true });
    assert.ok(bin);
    assert.deepEqual([...(bin.binaryParts ?? [])].sort(), ['1', '2']);
    assert.equal(bin.bodyParts?.get('1')?.toString('utf8'), 'Grüße aus Köln');
    assert.deepEqual(bin.bodyParts?.get('2'), blob);
    // Without BINARY: BODY[2] is the encoded text as stored; BODY.PEEK leaves \Seen unset.
    const enc = await c.fetchOne(String(uid), { bodyParts: ['2'], flags: true }, { uid: true });
    assert.ok(enc);
    assert.equal(enc.bodyParts?.get('2')?.toString('latin1'), attBody);
    assert.deepEqual([...enc.flags!], ['\\Answered']);
    await c.logout();
  } finally {
    await f.done();
  }
});

test('imapflow: SEARCH by subject, \\Seen and SINCE', async () => {
  const f = await imapFixture();
  try {
    const u1 = await f.deliver('INBOX', simple('alpha report', 1), { internalDate: new Date('2020-01-01T10:00:00Z'), flags: ['\\Seen'] });
    const u2 = await f.deliver('INBOX', simple('beta', 2), { internalDate: new Date('2024-06-01T10:00:00Z') });
    const u3 = await f.deliver('INBOX', simple('Gamma ALPHA', 3), { internalDate: new Date('2025-01-01T10:00:00Z'), flags: ['\\Seen'] });
    const c = await flow(f);
    await c.mailboxOpen('INBOX');
    assert.deepEqual(await c.search({ subject: 'alpha' }, { uid: true }), [u1, u3]);
    assert.deepEqual(await c.search({ seen: true }, { uid: true }), [u1, u3]);
    assert.deepEqual(await c.search({ seen: false }, { uid: true }), [u2]);
    assert.deepEqual(await c.search({ since: new Date('2024-01-01T00:00:00Z') }, { uid: true }), [u2, u3]);
    assert.deepEqual(await c.search({ since: new Date('2024-01-01T00:00:00Z'), seen: true }, { uid: true }), [u3]);
    assert.deepEqual(await c.search({ or: [{ subject: 'beta' }, { before: new Date('2021-01-01T00:00:00Z') }] }, { uid: true }), [u1, u2]);
    assert.deepEqual(await c.search({ subject: 'nowhere' }, { uid: true }), []);
    assert.deepEqual(await c.search({ all: true }), [1, 2, 3]); // sequence numbers
    await c.logout();
  } finally {
    await f.done();
  }
});

test('imapflow: QRESYNC SELECT reports flag changes and VANISHED (EARLIER) since the last session; STORE UNCHANGEDSINCE; MOVE', async () => {
  const f = await imapFixture();
  try {
    const uids: number[] = [];
    for (let i = 1; i <= 4; i++) uids.push(await f.deliver('INBOX', simple(`m${i}`, i)));
    let c = await flow(f, { qresync: true });
    let box = await c.mailboxOpen('INBOX');
    assert.equal(box.exists, 4);
    const since = box.highestModseq!;
    const validity = box.uidValidity;
    const [before] = await c.fetchAll(String(uids[0]), { uid: true, flags: true }, { uid: true });
    assert.equal(typeof before?.modseq, 'bigint');
    await c.logout();

    // Another client changes message 1 and expunges message 2 while this one is away.
    const a = await f.account();
    await a.storeFlags('INBOX', [uids[0]!], { mode: 'add', flags: ['\\Seen'] });
    await a.storeFlags('INBOX', [uids[1]!], { mode: 'add', flags: ['\\Deleted'] });
    await a.expunge('INBOX');

    c = await flow(f, { qresync: true });
    const flagsSeen = nextEvent(c, 'flags', (e) => e.uid === uids[0]);
    const vanished = nextEvent(c, 'expunge', (e) => e.uid === uids[1]);
    box = await c.mailboxOpen('INBOX', { changedSince: since, uidValidity: validity });
    assert.equal(box.exists, 3);
    const fl = await flagsSeen;
    assert.deepEqual([...fl.flags], ['\\Seen']);
    assert.ok(fl.modseq! > since);
    const v = await vanished;
    assert.equal(v.vanished, true);
    assert.equal(v.earlier, true);

    // RFC 7162 §3.1.3: STORE UNCHANGEDSINCE skips a message changed after that MODSEQ.
    const [cur] = await c.fetchAll(String(uids[2]), { uid: true, flags: true }, { uid: true });
    const stale = cur!.modseq!;
    await a.storeFlags('INBOX', [uids[2]!], { mode: 'add', keywords: ['$Label1'] });
    await c.messageFlagsAdd(String(uids[2]), ['\\Flagged'], { uid: true, unchangedSince: stale });
    await c.messageFlagsAdd(String(uids[3]), ['\\Flagged'], { uid: true, unchangedSince: stale + 1000n });
    const rows = await stored(f, 'INBOX');
    assert.deepEqual(rows.find((r) => r.uid === uids[2])?.flags, []);
    assert.deepEqual(rows.find((r) => r.uid === uids[3])?.flags, ['\\Flagged']);

    // MOVE (RFC 6851) with COPYUID: the message leaves INBOX and keeps its bytes and flags.
    const moved = await c.messageMove(String(uids[0]), 'Archive', { uid: true });
    assert.ok(moved);
    const target = moved.uidMap?.get(uids[0]!);
    assert.equal(typeof target, 'number');
    const archived = await stored(f, 'Archive');
    assert.deepEqual(archived.map((r) => [r.uid, r.flags, r.data.toString()]), [[target, ['\\Seen'], simple('m1', 1).toString()]]);
    assert.deepEqual((await stored(f, 'INBOX')).map((r) => r.uid), [uids[2], uids[3]]);
    await c.logout();
  } finally {
    await f.done();
  }
});

test('imapflow: IDLE reports EXISTS for a delivery and EXPUNGE (VANISHED with QRESYNC) for an expunge by another client', async (t) => {
  const f = await imapFixture();
  try {
    const u1 = await f.deliver('INBOX', simple('first', 1));
    const plain = await flow(f);
    const qr = await flow(f, { qresync: true });
    const other = await flow(f);
    await plain.mailboxOpen('INBOX');
    await qr.mailboxOpen('INBOX');
    const idles = [plain.idle(), qr.idle()];
    await new Promise((r) => setTimeout(r, 100)); // both have their "+ idling" continuation

    // A delivery through the store.
    let t0 = performance.now();
    const existsPlain = nextEvent(plain, 'exists', (e) => e.count === 2);
    const existsQr = nextEvent(qr, 'exists', (e) => e.count === 2);
    const u2 = await f.deliver('INBOX', simple('second', 2));
    assert.deepEqual([(await existsPlain).prevCount, (await existsQr).prevCount], [1, 1]);
    const deliverMs = performance.now() - t0;

    // An APPEND by another imapflow client.
    const existsAgain = nextEvent(plain, 'exists', (e) => e.count === 3);
    await other.append('INBOX', simple('third', 3));
    await existsAgain;

    // The other client deletes the first message: EXPUNGE 1 for one, VANISHED u1 for the QRESYNC one.
    t0 = performance.now();
    const expunged = nextEvent(plain, 'expunge');
    const vanished = nextEvent(qr, 'expunge');
    await other.mailboxOpen('INBOX');
    assert.equal(await other.messageDelete(String(u1), { uid: true }), true);
    const e = await expunged;
    assert.equal(e.seq, 1);
    assert.equal(e.vanished, false);
    const v = await vanished;
    assert.equal(v.uid, u1);
    assert.equal(v.vanished, true);
    assert.ok(!v.earlier);
    const expungeMs = performance.now() - t0;

    // Commands after IDLE (DONE is sent for them) see the new state.
    const left = await plain.fetchAll('1:*', { uid: true });
    assert.deepEqual(left.map((m) => [m.seq, m.uid]), [[1, u2], [2, u2 + 1]]);
    await Promise.all([plain.logout(), qr.logout(), other.logout()]);
    await Promise.all(idles);
    t.diagnostic(`idle notification: delivery ${deliverMs.toFixed(0)} ms, expunge ${expungeMs.toFixed(0)} ms`);
  } finally {
    await f.done();
  }
});

// --- Python's imaplib ---

const pythonScript = String.raw`
import imaplib, json, sys
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
msg = b'From: Py <py@example.com>\r\nTo: mjl@example.com\r\nSubject: from imaplib\r\nMessage-ID: <py-1@example.com>\r\n\r\nHello from Python, \xc3\xa4\r\n'
out = {}
def text(data):
    return [d.decode('latin1') if isinstance(d, bytes) else [x.decode('latin1') for x in d] if isinstance(d, tuple) else d for d in data]

c = imaplib.IMAP4('127.0.0.1', port)
out['login'] = c.login(user, pw)[0]
c.logout()

c = imaplib.IMAP4('127.0.0.1', port)
out['cram'] = c.login_cram_md5(user, pw)[0]
typ, data = c.list()
out['list'] = [typ, text(data)]
typ, data = c.status('INBOX', '(MESSAGES UIDNEXT UNSEEN)')
out['status'] = [typ, text(data)]
typ, data = c.append('INBOX', r'(\Flagged)', '"02-Mar-2026 10:00:00 +0100"', msg)
out['append'] = [typ, text(data)]
typ, data = c.select('INBOX')
out['select'] = [typ, text(data)]
typ, data = c.fetch('1', '(FLAGS RFC822)')
out['fetch'] = [typ, ''.join(d[0].decode('latin1') if isinstance(d, tuple) else d.decode('latin1') for d in data)]
out['fetch_equal'] = [d[1] for d in data if isinstance(d, tuple)] == [msg]
typ, data = c.store('1', '+FLAGS', r'(\Seen)')
out['store'] = [typ, text(data)]
typ, data = c.copy('1', 'Archive')
out['copy'] = [typ, text(data)]
typ, data = c.status('Archive', '(MESSAGES UNSEEN)')
out['status_archive'] = [typ, text(data)]
typ, data = c.store('1', '+FLAGS.SILENT', r'(\Deleted)')
out['store_silent'] = [typ, text(data)]
typ, data = c.expunge()
out['expunge'] = [typ, text(data)]

# IDLE (RFC 2177) by hand: imaplib has no IDLE before Python 3.14.
tag = c._new_tag()
c.send(tag + b' IDLE\r\n')
out['idle_continuation'] = c.readline().decode().rstrip('\r\n')
print('idling', flush=True)
c.sock.settimeout(10)
seen = []
while not (seen and seen[-1].endswith(' EXISTS')):
    seen.append(c.readline().decode().rstrip('\r\n'))
c.send(b'DONE\r\n')
while not seen[-1].startswith(tag.decode() + ' '):
    seen.append(c.readline().decode().rstrip('\r\n'))
out['idle'] = [l.replace(tag.decode(), 'TAG') for l in seen]
c.logout()
print(json.dumps(out))
`;

/** The flags of a FETCH response's text, sorted. */
const flagsIn = (fetch: string) => (/FLAGS \(([^)]*)\)/.exec(fetch)?.[1] ?? '').split(' ').filter(Boolean).sort();

test('Python imaplib: LOGIN, AUTHENTICATE CRAM-MD5, LIST, STATUS, APPEND, FETCH, STORE, COPY, EXPUNGE and IDLE', { skip: needs('python3', 'python3') }, async () => {
  const f = await imapFixture();
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-imaplib-'));
  try {
    await writeFile(join(dir, 'client.py'), pythonScript);
    const sent = Buffer.from('From: Py <py@example.com>\r\nTo: mjl@example.com\r\nSubject: from imaplib\r\nMessage-ID: <py-1@example.com>\r\n\r\nHello from Python, ä\r\n');
    let delivery: Promise<number> | undefined;
    const r = await run('python3', [join(dir, 'client.py'), String(f.port('imap')), 'mjl@example.com', testPassword], {
      onLine: (l) => {
        if (l === 'idling') delivery = f.deliver('INBOX', simple('while idling', 9));
      },
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    assert.equal(out['login'], 'OK');
    assert.equal(out['cram'], 'OK');
    const [listTyp, list] = out['list'] as [string, string[]];
    assert.equal(listTyp, 'OK');
    assert.ok(list.includes('(\\HasNoChildren) "/" INBOX') || list.includes('(\\HasNoChildren) "/" "INBOX"'), list.join('\n'));
    assert.ok(list.some((l) => /\\Archive/.test(l) && /"?Archive"?$/.test(l)), list.join('\n'));
    assert.deepEqual(out['status'], ['OK', ['"INBOX" (MESSAGES 0 UIDNEXT 1 UNSEEN 0)']]);
    assert.equal((out['append'] as string[])[0], 'OK');
    assert.match((out['append'] as string[][])[1]![0]!, /^\[APPENDUID \d+ 1\]/);
    assert.deepEqual(out['select'], ['OK', ['1']]);
    assert.equal((out['fetch'] as string[])[0], 'OK');
    assert.deepEqual(flagsIn((out['fetch'] as string[])[1]!), ['\\Flagged', '\\Recent', '\\Seen']); // imaplib speaks IMAP4rev1: \Recent (RFC 3501 §2.3.2); RFC822 sets \Seen (RFC 3501 §6.4.5)
    assert.equal(out['fetch_equal'], true, 'RFC822 returns the appended bytes');
    assert.equal((out['store'] as string[])[0], 'OK');
    assert.deepEqual(flagsIn((out['store'] as string[][])[1]![0]!), ['\\Flagged', '\\Recent', '\\Seen']);
    assert.equal((out['copy'] as string[])[0], 'OK');
    assert.deepEqual(out['status_archive'], ['OK', ['"Archive" (MESSAGES 1 UNSEEN 0)']]);
    assert.deepEqual(out['store_silent'], ['OK', [null]]);
    assert.deepEqual(out['expunge'], ['OK', ['1']]);
    assert.match(out['idle_continuation'] as string, /^\+ /);
    const idle = out['idle'] as string[];
    assert.equal(idle.find((l) => l.endsWith(' EXISTS')), '* 1 EXISTS');
    assert.equal(idle.at(-1)?.replace(/ OK .*/, ' OK'), 'TAG OK');
    assert.equal(await delivery, 2);

    const inbox = await stored(f, 'INBOX');
    assert.deepEqual(inbox.map((m) => m.data), [simple('while idling', 9)]);
    const archive = await stored(f, 'Archive');
    assert.equal(archive.length, 1);
    assert.deepEqual(archive[0]!.data, sent);
    assert.deepEqual(archive[0]!.flags, ['\\Flagged', '\\Seen']);
    assert.equal(archive[0]!.internalDate.toISOString(), '2026-03-02T09:00:00.000Z');
  } finally {
    await rm(dir, { recursive: true, force: true });
    await f.done();
  }
});

// --- mbsync ---

/** A message of the mbsync test: a unique Message-ID, varied sizes and some 8-bit text. */
function syncMessage(n: number, rand: () => number): Buffer {
  const lines = [`From: Sender ${n} <s${n}@example.org>`, 'To: mjl@example.com', `Subject: sync message ${n}`, `Message-ID: <sync-${n}@example.org>`, 'Date: Tue, 03 Mar 2026 08:00:00 +0000'];
  if (n % 3 === 0) lines.push('MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
  lines.push('');
  const bodyLines = Math.floor(rand() * (n % 50 === 0 ? 2000 : 40)) + 1;
  for (let i = 0; i < bodyLines; i++) lines.push(`${n % 3 === 0 ? 'Grüße, ' : ''}line ${i} of message ${n}: ${'x'.repeat(Math.floor(rand() * 70))}`);
  return Buffer.from(lines.join('\r\n') + '\r\n');
}

const messageIdOf = (data: Buffer) => /^Message-ID: (<[^>]+>)/im.exec(data.toString('latin1'))?.[1];
/** mbsync writes Maildir files with LF line ends (isync's maildir driver is not CRLF). */
const toLF = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
const toCRLF = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
/**
 * A message as it was before mbsync copied it: isync 1.4 adds one "X-TUID: " header (a
 * 12-character transaction id, to find the copy again) as the last header line of every
 * message it propagates, in either direction. Undefined when that header is not there.
 */
function withoutTuid(b: Buffer): Buffer | undefined {
  const text = b.toString('latin1');
  const m = /^X-TUID: [A-Za-z0-9+/]{12}\r?\n(?=\r?\n)/m.exec(text);
  if (!m || m.index > text.search(/\r?\n\r?\n/) + 2) return undefined;
  return Buffer.from(text.slice(0, m.index) + text.slice(m.index + m[0].length), 'latin1');
}

/** isync 1.5 renamed SSLType to TLSType; Debian bookworm has 1.4.4. */
function mbsyncTlsKeyword(): string {
  const v = /isync (\d+)\.(\d+)/.exec(spawnSync('mbsync', ['--version']).stdout?.toString() ?? '');
  return v && (Number(v[1]) > 1 || Number(v[2]) >= 5) ? 'TLSType' : 'SSLType';
}

// mbsync's defaults stay on: COMPRESS=DEFLATE, and every FETCH pipelined (PipelineDepth unlimited), as real syncs run.
function mbsyncrc(port: number, maildir: string): string {
  return `IMAPAccount mailcove
Host 127.0.0.1
Port ${port}
User mjl@example.com
Pass "${testPassword}"
${mbsyncTlsKeyword()} None
AuthMechs LOGIN
Timeout 10

IMAPStore remote
Account mailcove

MaildirStore local
Path ${maildir}/
Inbox ${maildir}/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns INBOX
Create Near
Expunge Both
SyncState *
Sync All
`;
}

test('mbsync: a 1 000-message INBOX syncs to a Maildir byte for byte, then changes on both sides sync both ways', { skip: needs('mbsync', 'isync'), timeout: 120_000 }, async (t) => {
  const f = await imapFixture();
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-mbsync-'));
  try {
    const maildir = join(dir, 'mail');
    await mkdir(maildir);
    await writeFile(join(dir, 'mbsyncrc'), mbsyncrc(f.port('imap'), maildir));
    const sync = async () => {
      const r = await run('mbsync', ['-c', join(dir, 'mbsyncrc'), '-a'], { timeoutMs: 60_000 });
      assert.equal(r.status, 0, `mbsync: ${r.stdout}${r.stderr}`);
      return r.ms;
    };

    const rand = prng(143);
    const sent = new Map<string, Buffer>();
    let t0 = performance.now();
    for (let batch = 0; batch < 1000; batch += 50) {
      const msgs = Array.from({ length: 50 }, (_, i) => syncMessage(batch + i, rand));
      for (const m of msgs) sent.set(messageIdOf(m)!, m);
      await Promise.all(msgs.map((m, i) => f.deliver('INBOX', m, (batch + i) % 7 === 0 ? { flags: ['\\Seen'] } : {})));
    }
    const populateMs = performance.now() - t0;

    const firstMs = await sync();
    let local = await readMaildir(join(maildir, 'INBOX'));
    assert.equal(local.length, 1000);
    const byId = (ms: MaildirMessage[]) => new Map(ms.map((m) => [messageIdOf(m.data)!, m]));
    let localById = byId(local);
    for (const [id, data] of sent) {
      const m = localById.get(id);
      assert.ok(m, `${id} is in the Maildir`);
      assert.ok(withoutTuid(m.data)?.equals(toLF(data)), `${id}: Maildir file equals the stored message (LF line ends, X-TUID added)`);
    }
    const serverFlags = new Map((await stored(f, 'INBOX')).map((m) => [messageIdOf(m.data)!, m.flags]));
    for (const [id, m] of localById) assert.deepEqual(imapFlagsOfMaildir(m.flags), serverFlags.get(id), `${id}: flags after the first sync`);

    // Changes on the server: new messages, flags, expunges.
    const a = await f.account();
    const rows = await stored(f, 'INBOX');
    const uidOf = (n: number) => rows.find((r) => messageIdOf(r.data) === `<sync-${n}@example.org>`)!.uid;
    for (let n = 1000; n < 1005; n++) {
      const m = syncMessage(n, rand);
      sent.set(messageIdOf(m)!, m);
      await f.deliver('INBOX', m);
    }
    const uidsOf = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => uidOf(from + i)); // deliveries ran in parallel: UIDs are not in n order
    await a.storeFlags('INBOX', uidsOf(1, 10), { mode: 'add', flags: ['\\Seen'] });
    await a.storeFlags('INBOX', uidsOf(11, 12), { mode: 'add', flags: ['\\Flagged', '\\Answered'] });
    await a.storeFlags('INBOX', uidsOf(21, 25), { mode: 'add', flags: ['\\Deleted'] });
    await a.expunge('INBOX');
    for (let n = 21; n <= 25; n++) sent.delete(`<sync-${n}@example.org>`);

    // Changes in the Maildir: a new message, a flag, a deletion.
    const added = Buffer.from('From: Local <local@example.net>\nTo: mjl@example.com\nSubject: written locally\nMessage-ID: <local-1@example.net>\n\nFrom the Maildir side, with 8-bit: Grüße\n');
    await writeFile(join(maildir, 'INBOX', 'new', `1772524800.M1P1.interop`), added);
    const flagged = localById.get('<sync-30@example.org>')!;
    await rename(flagged.path, flagged.path.replace(/:2,([A-Z]*)$/, (_, fl: string) => `:2,${[...fl, 'F'].sort().join('')}`));
    await unlink(localById.get('<sync-31@example.org>')!.path);
    sent.delete('<sync-31@example.org>');

    const secondMs = await sync();

    // Both sides agree: the same messages with the same flags.
    local = await readMaildir(join(maildir, 'INBOX'));
    localById = byId(local);
    const server = await stored(f, 'INBOX');
    const serverById = new Map(server.map((m) => [messageIdOf(m.data)!, m]));
    const expected = [...sent.keys(), '<local-1@example.net>'].sort();
    assert.deepEqual([...serverById.keys()].sort(), expected);
    assert.deepEqual([...localById.keys()].sort(), expected);
    assert.equal(server.length, 1000 + 5 - 5 + 1 - 1);
    for (const [id, m] of localById) assert.deepEqual(imapFlagsOfMaildir(m.flags), serverById.get(id)!.flags, `${id}: flags agree`);
    assert.deepEqual(serverById.get('<sync-30@example.org>')!.flags, ['\\Flagged']);
    assert.equal(localById.get('<sync-5@example.org>')!.flags, 'S');
    assert.equal(localById.get('<sync-11@example.org>')!.flags, 'FR');
    for (const [id, data] of sent) assert.ok(withoutTuid(localById.get(id)!.data)?.equals(toLF(data)), `${id}: Maildir file equals the stored message`);
    // The upload: the server has the local file's bytes with CRLF line ends, plus mbsync's X-TUID header.
    const up = serverById.get('<local-1@example.net>')!;
    assert.deepEqual(withoutTuid(up.data), toCRLF(added), `uploaded bytes: ${JSON.stringify(up.data.toString('latin1'))}`);
    assert.ok(localById.get('<local-1@example.net>')!.data.equals(added), 'the local file is left as written');

    // A third run with no changes changes nothing.
    const thirdMs = await sync();
    assert.deepEqual((await readMaildir(join(maildir, 'INBOX'))).map((m) => m.path).sort(), local.map((m) => m.path).sort());
    assert.equal((await stored(f, 'INBOX')).length, server.length);
    t.diagnostic(`mbsync: populate 1000 ${populateMs.toFixed(0)} ms, first sync ${firstMs} ms, incremental ${secondMs} ms, no-op ${thirdMs} ms`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await f.done();
  }
});

// --- GNU SASL ---

test('gsasl --imap: SCRAM-SHA-256 and SCRAM-SHA-256-PLUS over STARTTLS, a wrong password refused, EXTERNAL with a client certificate', { skip: needs('gsasl', 'gsasl') }, async () => {
  const f = await imapFixture();
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-gsasl-imap-'));
  try {
    const base = ['--imap', '--connect', `127.0.0.1:${f.port('imap')}`, '--hostname', 'localhost', '--x509-ca-file=', '--starttls'];
    const scram = await run('gsasl', [...base, '--quiet', '--no-cb', '--mechanism', 'SCRAM-SHA-256', '-a', 'mjl@example.com', '-p', testPassword]);
    assert.equal(scram.status, 0, `SCRAM-SHA-256: ${scram.stdout}${scram.stderr}`);
    // Channel binding: the client's first message names the binding type (RFC 5802 §7 gs2-header "p=").
    const plus = await run('gsasl', [...base, '--mechanism', 'SCRAM-SHA-256-PLUS', '-a', 'mjl@example.com', '-p', testPassword]);
    assert.equal(plus.status, 0, `SCRAM-SHA-256-PLUS: ${plus.stdout}${plus.stderr}`);
    const lines = plus.stdout.split(/\r?\n/);
    const first = lines[lines.indexOf('. AUTHENTICATE SCRAM-SHA-256-PLUS') + 2]!;
    assert.match(Buffer.from(first, 'base64').toString(), /^p=tls-(exporter|unique),,n=mjl@example\.com,r=/);
    assert.match(plus.stdout, /^\. OK \[CAPABILITY [^\]]*\] logged in$/m);
    const wrong = await run('gsasl', [...base, '--mechanism', 'SCRAM-SHA-256-PLUS', '-a', 'mjl@example.com', '-p', 'wrong password']);
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stdout, /^\. NO \[AUTHENTICATIONFAILED\] invalid credentials$/m);

    // EXTERNAL (RFC 4422 App. A) with a registered client certificate presented in the STARTTLS handshake.
    for (const noIMAPPreauth of [true, false]) {
      const { keyPEM, certPEM } = await makeSelfSigned({ names: ['mjl@example.com'], keyType: 'rsa2048' });
      const name = noIMAPPreauth ? 'nopreauth' : 'preauth';
      await writeFile(join(dir, `${name}.key.pem`), keyPEM);
      await writeFile(join(dir, `${name}.cert.pem`), certPEM);
      const cert = new X509Certificate(certPEM);
      await f.store.auth.addTlsPublicKey({ fingerprint: publicKeyFingerprint(cert), name, account: 'mjl', loginAddress: 'mjl@example.com', noIMAPPreauth, certDER: cert.raw.toString('base64'), created: new Date().toISOString() });
      const ext = await run('gsasl', [...base, '--mechanism', 'EXTERNAL', '-z', '', '--x509-cert-file', join(dir, `${name}.cert.pem`), '--x509-key-file', join(dir, `${name}.key.pem`)]);
      assert.equal(ext.status, 0, `EXTERNAL (${name} key): ${ext.stdout}${ext.stderr}`);
      assert.match(ext.stdout, /^\* CAPABILITY .* AUTH=EXTERNAL /m);
      assert.match(ext.stdout, /^\. OK \[CAPABILITY [^\]]*\] logged in$/m);
    }
    // An unregistered certificate: EXTERNAL is not offered and fails.
    const { keyPEM, certPEM } = await makeSelfSigned({ names: ['stranger'], keyType: 'ecdsa-p256' });
    await writeFile(join(dir, 'stranger.key.pem'), keyPEM);
    await writeFile(join(dir, 'stranger.cert.pem'), certPEM);
    const stranger = await run('gsasl', [...base, '--mechanism', 'EXTERNAL', '-z', '', '--x509-cert-file', join(dir, 'stranger.cert.pem'), '--x509-key-file', join(dir, 'stranger.key.pem')]);
    assert.notEqual(stranger.status, 0, stranger.stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await f.done();
  }
});
