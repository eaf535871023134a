// METADATA (RFC 5464) and REPLACE (RFC 8508) through the protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imapFixture } from './testfixture.ts';

test('SETMETADATA and GETMETADATA: server and mailbox entries, DEPTH, MAXSIZE, NIL deletes, limits, LIST RETURN (METADATA)', async () => {
  const f = await imapFixture();
  try {
    const c = await f.connect({ login: 'mjl' });
    let r = await c.run('SETMETADATA "" (/private/vendor/example/theme "dark")');
    assert.equal(r.tagged, 'OK SETMETADATA completed');
    r = await c.run('SETMETADATA INBOX (/shared/comment {13}\r\nshared note\r\n /private/comment "mine")');
    assert.equal(r.tagged, 'OK SETMETADATA completed');
    r = await c.run('GETMETADATA "" /private/vendor/example/theme');
    assert.deepEqual(r.untagged, ['* METADATA "" ("/private/vendor/example/theme" "dark")']);
    r = await c.run('GETMETADATA INBOX (/shared/comment /private/comment /private/none)');
    assert.deepEqual(r.untagged, ['* METADATA "INBOX" ("/private/comment" "mine" "/shared/comment" {13}\r\nshared note\r\n)']);
    r = await c.run('GETMETADATA (DEPTH infinity) "" /private');
    assert.deepEqual(r.untagged, ['* METADATA "" ("/private/vendor/example/theme" "dark")']);
    r = await c.run('GETMETADATA (DEPTH 1) "" /private');
    assert.deepEqual(r.untagged, []);
    r = await c.run('GETMETADATA (MAXSIZE 5) INBOX (/shared/comment /private/comment)');
    assert.deepEqual(r.untagged, ['* METADATA "INBOX" ("/private/comment" "mine")']);
    assert.equal(r.tagged, 'OK [METADATA LONGENTRIES 13] GETMETADATA completed');
    r = await c.run('SETMETADATA INBOX (/private/comment NIL)');
    r = await c.run('GETMETADATA INBOX /private/comment');
    assert.deepEqual(r.untagged, []);
    r = await c.run('SETMETADATA INBOX (/frob/x "y")');
    assert.equal(r.tagged, 'BAD invalid metadata entry name "/frob/x"');
    r = await c.run('SETMETADATA Nope (/private/x "y")');
    assert.equal(r.tagged, 'NO [NONEXISTENT] no mailbox Nope');
    r = await c.run(`SETMETADATA INBOX (/private/big {70000+}\r\n${'x'.repeat(70000)})`);
    assert.equal(r.tagged, 'NO [METADATA MAXSIZE 65536] value too large');
    r = await c.run('LIST "" INBOX RETURN (METADATA (/shared/comment))');
    assert.deepEqual(r.untagged, ['* LIST (\\HasNoChildren) "/" "INBOX"', '* METADATA "INBOX" ("/shared/comment" {13}\r\nshared note\r\n)']);
  } finally {
    await f.done();
  }
});

test('REPLACE and UID REPLACE: the new message is appended (APPENDUID) and the old one expunged', async () => {
  const f = await imapFixture();
  try {
    await f.deliver('Drafts', 'Subject: draft 1\r\n\r\nfirst\r\n', { flags: ['\\Draft'] });
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT Drafts');
    const m2 = 'Subject: draft 2\r\n\r\nsecond\r\n';
    let r = await c.run(`REPLACE 1 Drafts (\\Draft) {${m2.length}+}\r\n${m2}`);
    assert.match(r.untagged.find((l) => l.includes('APPENDUID'))!, /^\* OK \[APPENDUID \d+ 2\] replacement appended$/);
    assert.ok(r.untagged.includes('* 1 EXPUNGE'), r.all.join('\n'));
    assert.ok(r.untagged.includes('* 1 EXISTS'), r.all.join('\n'));
    const m3 = 'Subject: draft 3\r\n\r\nthird\r\n';
    r = await c.run(`UID REPLACE 2 Sent {${m3.length}+}\r\n${m3}`);
    assert.equal(r.tagged, 'OK UID REPLACE completed');
    assert.ok(r.untagged.includes('* 1 EXPUNGE'));
    r = await c.run(`UID REPLACE 99 Drafts {${m3.length}+}\r\n${m3}`);
    assert.equal(r.tagged, 'NO [NONEXISTENT] no message with that UID');
    const rows = await (await f.account()).messages('Sent');
    assert.equal(rows.length, 1);
    assert.equal((await (await f.account()).messages('Drafts')).length, 0);
  } finally {
    await f.done();
  }
});
