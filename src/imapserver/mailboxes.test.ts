// Mailbox commands through the protocol: CREATE (USE), RENAME (INBOX and children), DELETE,
// SUBSCRIBE, LIST (patterns, LIST-EXTENDED, RECURSIVEMATCH, SPECIAL-USE, LIST-STATUS),
// LSUB, modified UTF-7 for rev1 clients, STATUS, quota; APPEND, COPY, MOVE, EXPUNGE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imapFixture } from './testfixture.ts';

const msg = (n: number) => `From: a@example.com\r\nSubject: m${n}\r\n\r\nbody ${n}\r\n`;

test('CREATE, RENAME, DELETE, SUBSCRIBE and LIST with patterns and selection options', async () => {
  const f = await imapFixture();
  try {
    const c = await f.connect({ login: 'mjl' });
    let r = await c.run('CREATE Work/Projects/');
    assert.equal(r.tagged, 'OK CREATE completed');
    r = await c.run('CREATE Work');
    assert.equal(r.tagged, 'NO [ALREADYEXISTS] mailbox Work exists');
    r = await c.run('CREATE inbox');
    assert.equal(r.tagged, 'NO [ALREADYEXISTS] INBOX always exists');
    r = await c.run('CREATE Receipts (USE (\\Archive))');
    assert.equal(r.tagged, 'OK CREATE completed');
    r = await c.run('CREATE Bad (USE (\\Frob))');
    assert.equal(r.tagged, 'NO [USEATTR] unknown special-use attribute \\Frob');
    r = await c.run('LIST "" %');
    assert.deepEqual(r.untagged, [
      '* LIST (\\HasNoChildren \\Archive) "/" "Archive"',
      '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"',
      '* LIST (\\HasNoChildren) "/" "INBOX"',
      '* LIST (\\HasNoChildren \\Junk) "/" "Junk"',
      '* LIST (\\HasNoChildren \\Archive) "/" "Receipts"',
      '* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
      '* LIST (\\HasNoChildren \\Trash) "/" "Trash"',
      '* LIST (\\HasChildren) "/" "Work"',
    ]);
    r = await c.run('LIST Work *');
    assert.deepEqual(r.untagged, ['* LIST (\\HasNoChildren) "/" "Work/Projects"']);
    r = await c.run('LIST "" ""');
    assert.deepEqual(r.untagged, ['* LIST (\\Noselect) "/" ""']);
    r = await c.run('LIST (SPECIAL-USE) "" "*"');
    assert.deepEqual(r.untagged.map((l) => l.split('"/" ')[1]), ['"Archive"', '"Drafts"', '"Junk"', '"Receipts"', '"Sent"', '"Trash"']);
    // Subscriptions: a subscribed child makes its unsubscribed parent show with CHILDINFO (RFC 5258 §3.5).
    await c.run('UNSUBSCRIBE Work');
    r = await c.run('SUBSCRIBE Work/Projects');
    r = await c.run('SUBSCRIBE Gone');
    r = await c.run('LIST (SUBSCRIBED RECURSIVEMATCH) "" "W%"');
    assert.deepEqual(r.untagged, ['* LIST (\\HasChildren) "/" "Work" ("CHILDINFO" ("SUBSCRIBED"))']);
    r = await c.run('LIST (SUBSCRIBED) "" "G*"');
    assert.deepEqual(r.untagged, ['* LIST (\\NonExistent \\Subscribed) "/" "Gone"']);
    r = await c.run('LSUB "" "W%"');
    assert.deepEqual(r.untagged, ['* LSUB (\\Noselect) "/" "Work"']);
    r = await c.run('LIST "" (INBOX Receipts) RETURN (STATUS (MESSAGES UIDNEXT SIZE) SUBSCRIBED)');
    assert.deepEqual(r.untagged, ['* LIST (\\HasNoChildren \\Subscribed) "/" "INBOX"', '* STATUS "INBOX" (MESSAGES 0 UIDNEXT 1 SIZE 0)', '* LIST (\\HasNoChildren \\Archive) "/" "Receipts"', '* STATUS "Receipts" (MESSAGES 0 UIDNEXT 1 SIZE 0)']);
    r = await c.run('LIST (FROB) "" "*"');
    assert.equal(r.tagged, 'BAD unknown LIST selection option FROB');
    r = await c.run('RENAME Work Job');
    assert.equal(r.tagged, 'OK RENAME completed');
    r = await c.run('LIST "" "Job*"');
    assert.deepEqual(r.untagged, ['* LIST (\\HasChildren) "/" "Job"', '* LIST (\\HasNoChildren) "/" "Job/Projects"']);
    r = await c.run('RENAME Nope Other');
    assert.equal(r.tagged, 'NO [NONEXISTENT] no mailbox Nope');
    r = await c.run('DELETE Job');
    assert.equal(r.tagged, 'OK DELETE completed');
    r = await c.run('LIST "" "Jo%"');
    assert.deepEqual(r.untagged, ['* LIST (\\Noselect \\HasChildren) "/" "Job"']);
    r = await c.run('CREATE "a*b"');
    assert.equal(r.tagged, 'NO [CANNOT] mailbox names cannot contain "*" or "%"');
    r = await c.run('DELETE Job/Projects');
    assert.equal(r.tagged, 'OK DELETE completed');
    r = await c.run('DELETE INBOX');
    assert.equal(r.tagged, 'NO [CANNOT] INBOX cannot be deleted');
  } finally {
    await f.done();
  }
});

test('RENAME INBOX moves its messages and leaves INBOX empty (RFC 9051 §6.3.6)', async () => {
  const f = await imapFixture();
  try {
    await f.deliver('INBOX', msg(1));
    await f.deliver('INBOX', msg(2));
    const c = await f.connect({ login: 'mjl' });
    let r = await c.run('RENAME INBOX Old');
    assert.equal(r.tagged, 'OK RENAME completed');
    r = await c.run('STATUS INBOX (MESSAGES)');
    assert.deepEqual(r.untagged, ['* STATUS "INBOX" (MESSAGES 0)']);
    r = await c.run('STATUS Old (MESSAGES)');
    assert.deepEqual(r.untagged, ['* STATUS "Old" (MESSAGES 2)']);
  } finally {
    await f.done();
  }
});

test('modified UTF-7 for IMAP4rev1 clients, UTF-8 after ENABLE UTF8=ACCEPT', async () => {
  const f = await imapFixture();
  try {
    const c = await f.connect({ login: 'mjl' });
    let r = await c.run('CREATE Entw&APw-rfe');
    assert.equal(r.tagged, 'OK CREATE completed');
    r = await c.run('LIST "" Entw*');
    assert.deepEqual(r.untagged, ['* LIST (\\HasNoChildren) "/" "Entw&APw-rfe"']);
    r = await c.run('CREATE &Jjo-bad&-');
    assert.match(r.tagged, /^OK/);
    r = await c.run('CREATE Bad&AGE-');
    assert.equal(r.tagged, 'BAD modified UTF-7 must not encode printable ASCII');
    const u = await f.connect({ login: 'mjl' });
    await u.run('ENABLE UTF8=ACCEPT');
    r = await u.run('LIST "" Entw*');
    assert.deepEqual(r.untagged, ['* LIST (\\HasNoChildren) "/" "Entwürfe"'.replace('ü', Buffer.from('ü').toString('latin1'))]);
    r = await u.run('STATUS "Entwürfe" (MESSAGES)');
    assert.equal(r.tagged, 'OK STATUS completed');
    assert.deepEqual(await (await f.account()).listMailboxes().then((l) => l.map((m) => m.name).filter((n) => n.includes('☺') || n.startsWith('Entw'))), ['Entwürfe', '☺bad&']);
  } finally {
    await f.done();
  }
});

test('APPEND with flags and date, MULTIAPPEND all or nothing, TRYCREATE; COPY and MOVE with COPYUID; EXPUNGE and UID EXPUNGE', async () => {
  const f = await imapFixture();
  try {
    const c = await f.connect({ login: 'mjl' });
    const m1 = msg(1);
    const m2 = msg(2);
    let r = await c.run(`APPEND INBOX (\\Flagged $Work) "14-Jul-2024 10:00:00 +0200" {${m1.length}+}\r\n${m1} {${m2.length}+}\r\n${m2}`);
    assert.match(r.tagged, /^OK \[APPENDUID \d+ 1:2\] APPEND completed$/);
    const rows = await (await f.account()).messages('INBOX');
    assert.deepEqual(rows.map((x) => [x.uid, x.flags, x.keywords, x.internalDate.toISOString()]), [
      [1, ['\\Flagged'], ['$Work'], '2024-07-14T08:00:00.000Z'],
      [2, [], [], rows[1]!.internalDate.toISOString()],
    ]);
    r = await c.run(`APPEND Nowhere {${m1.length}+}\r\n${m1}`);
    assert.equal(r.tagged, 'NO [TRYCREATE] mailbox Nowhere does not exist');
    r = await c.run(`APPEND INBOX {${m1.length}+}\r\n${m1} (\\Bogus) {${m2.length}+}\r\n${m2}`);
    assert.equal(r.tagged, 'BAD unknown system flag \\Bogus');
    assert.equal((await (await f.account()).messages('INBOX')).length, 2, 'nothing of the failed MULTIAPPEND stayed');
    r = await c.run('APPEND INBOX {0}\r\n');
    assert.equal(r.tagged, 'NO [CANNOT] empty message');
    await c.run('SELECT INBOX');
    r = await c.run('COPY 1:2 Archive');
    assert.match(r.tagged, /^OK \[COPYUID \d+ 1:2 1:2\] COPY completed$/);
    r = await c.run('COPY 1 Nowhere');
    assert.equal(r.tagged, 'NO [TRYCREATE] mailbox Nowhere does not exist');
    r = await c.run('UID MOVE 2 Trash');
    assert.match(r.untagged[0]!, /^\* OK \[COPYUID \d+ 2 1\] moved$/);
    assert.equal(r.untagged[1], '* 2 EXPUNGE');
    r = await c.run('UID COPY 99 Archive');
    assert.equal(r.tagged, 'OK UID COPY completed');
    r = await c.run('COPY 5 Archive');
    assert.equal(r.tagged, 'BAD invalid sequence number: mailbox has 1 messages');
    await c.run(`APPEND INBOX {${m2.length}+}\r\n${m2}`);
    await c.run('STORE 1:2 +FLAGS.SILENT (\\Deleted)');
    r = await c.run('UID EXPUNGE 3');
    assert.deepEqual(r.untagged, ['* 2 EXPUNGE']);
    r = await c.run('EXPUNGE');
    assert.deepEqual(r.untagged, ['* 1 EXPUNGE']);
    await c.run('EXAMINE Archive');
    r = await c.run('STORE 1 +FLAGS (\\Seen)');
    assert.equal(r.tagged, 'NO [READ-ONLY] mailbox is read-only (EXAMINE)');
    r = await c.run('EXPUNGE');
    assert.equal(r.tagged, 'NO [READ-ONLY] mailbox is read-only (EXAMINE)');
    r = await c.run('CLOSE');
    assert.equal(r.tagged, 'OK CLOSE completed');
  } finally {
    await f.done();
  }
});

test('CLOSE expunges silently, UNSELECT does not; quota; UIDONLY refuses sequence numbers', async () => {
  const f = await imapFixture();
  try {
    await f.deliver('INBOX', msg(1), { flags: ['\\Deleted'] });
    await f.deliver('INBOX', msg(2), { flags: ['\\Deleted'] });
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    let r = await c.run('UNSELECT');
    assert.deepEqual(r.untagged, []);
    await c.run('SELECT INBOX');
    r = await c.run('CLOSE');
    assert.deepEqual(r.untagged, []);
    r = await c.run('STATUS INBOX (MESSAGES DELETED)');
    assert.deepEqual(r.untagged, ['* STATUS "INBOX" (MESSAGES 0 DELETED 0)']);
    await (await f.account()).setQuota(10 * 1024 * 1024);
    await f.deliver('INBOX', msg(3));
    r = await c.run('GETQUOTAROOT INBOX');
    assert.deepEqual(r.untagged, ['* QUOTAROOT "INBOX" ""', '* QUOTA "" (STORAGE 1 10240)']);
    r = await c.run('SETQUOTA "" (STORAGE 1)');
    assert.equal(r.tagged, 'NO [NOPERM] quotas are set by the administrator');
    await c.run('ENABLE UIDONLY');
    await c.run('SELECT INBOX');
    r = await c.run('STORE 1 +FLAGS (\\Seen)');
    assert.equal(r.tagged, 'BAD [UIDREQUIRED] UIDONLY is enabled: use the UID form');
    r = await c.run('UID STORE 3 +FLAGS (\\Seen)');
    assert.deepEqual(r.untagged, ['* 3 UIDFETCH (FLAGS (\\Seen \\Recent))']);
  } finally {
    await f.done();
  }
});
