// The outbound queue table: durable add with envelope and DSN parameters, reading back,
// and the submission history behind the per-account limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { fixture } from './testfixture.ts';
import { openStore } from './store.ts';

test('a queued message keeps its envelope, DSN parameters and bytes across a reopen', async () => {
  const f = await fixture();
  try {
    const spoolPath = await f.spool('Subject: hi\r\n\r\nbody\r\n');
    const hold = new Date(Date.now() + 3600_000);
    const q = await f.store.queue.add({
      account: 'mjl', mailFrom: 'mjl@example.com', smtputf8: false, body: '8BITMIME', envid: 'env-1', ret: 'HDRS', requireTLS: true,
      recipients: [{ address: 'a@example.org', domain: 'example.org', notify: 'SUCCESS,FAILURE', orcpt: 'rfc822;a@example.org' }, { address: 'b@bücher.example', domain: 'xn--bcher-kva.example' }],
      spoolPath, nextAttempt: hold, extra: { customer: '42' },
    });
    assert.equal(q.recipients.length, 2);
    const store2 = await openStore(f.dataDir); // a second handle reads what the first committed
    try {
      const [m] = await store2.queue.list();
      assert.ok(m);
      assert.equal(m.mailFrom, 'mjl@example.com');
      assert.equal(m.envid, 'env-1');
      assert.equal(m.ret, 'HDRS');
      assert.equal(m.requireTLS, true);
      assert.equal(m.body, '8BITMIME');
      assert.deepEqual(m.extra, { customer: '42' });
      assert.equal(m.recipients[0]?.notify, 'SUCCESS,FAILURE');
      assert.equal(m.recipients[0]?.orcpt, 'rfc822;a@example.org');
      assert.equal(m.recipients[1]?.domain, 'xn--bcher-kva.example');
      assert.equal(m.recipients[1]?.nextAttempt.getTime(), hold.getTime());
      assert.equal(await text(await store2.queue.openMessage(m.id)), 'Subject: hi\r\n\r\nbody\r\n');
    } finally {
      await store2.close();
    }
  } finally {
    await f.done();
  }
});

test('submission counts: messages and first-time recipients of the last day', async () => {
  const f = await fixture();
  try {
    const add = async (to: string[]) => f.store.queue.add({
      account: 'mjl', mailFrom: 'mjl@example.com', smtputf8: false, body: '7BIT', requireTLS: null,
      recipients: to.map((address) => ({ address, domain: address.split('@')[1] ?? '' })), spoolPath: await f.spool('x\r\n'), nextAttempt: new Date(), extra: {},
    });
    await add(['a@example.org', 'b@example.org']);
    await add(['A@example.org']);
    const c = await f.store.queue.submissionCounts('mjl', ['a@example.org', 'c@example.org']);
    assert.equal(c.messages, 2);
    assert.equal(c.firstTimeRecipients, 2); // a and b; A is a again
    assert.deepEqual(c.newRecipients, ['c@example.org']);
    assert.equal((await f.store.queue.submissionCounts('other', [])).messages, 0);
    const later = await f.store.queue.submissionCounts('mjl', [], Date.now() + 25 * 3600_000);
    assert.equal(later.messages, 0);
  } finally {
    await f.done();
  }
});

test('a message without recipients is refused', async () => {
  const f = await fixture();
  try {
    await assert.rejects(f.store.queue.add({ account: '', mailFrom: '', smtputf8: false, body: '7BIT', requireTLS: null, recipients: [], spoolPath: await f.spool('x'), nextAttempt: new Date(), extra: {} }), { code: 'CANNOT' });
  } finally {
    await f.done();
  }
});

test('retiredPage filters in SQL (substrings case-insensitive also beyond ASCII), pages newest first and counts the total', async () => {
  const f = await fixture();
  try {
    const retire = async (mailFrom: string, to: string, success: boolean, time: number) => {
      const m = await f.store.queue.add({
        account: 'mjl', mailFrom, smtputf8: true, body: '8BITMIME', requireTLS: null,
        recipients: [{ address: to, domain: to.split('@')[1] ?? '' }], spoolPath: await f.spool('x\r\n'), nextAttempt: new Date(), extra: {},
      });
      const attempt = { time: new Date(time).toISOString(), transport: 'direct', success, ...(success ? {} : { error: 'refused' }) };
      await f.store.queue.recordAttempt(m.recipients.map((r) => r.id), attempt, { kind: 'retire', success, keepUntil: new Date(time + 86400_000) });
    };
    await retire('mjl@example.com', 'a@example.org', true, 1000);
    await retire('Jörg@example.com', 'b@example.org', false, 2000);
    await retire('mjl@example.com', 'c@bücher.example', true, 3000);
    await retire('mjl@example.com', 'd@example.org', false, 4000);
    const all = await f.store.queue.retiredPage({});
    assert.deepEqual(all.items.map((r) => r.address), ['d@example.org', 'c@bücher.example', 'b@example.org', 'a@example.org']);
    assert.equal(all.total, 4);
    const page = await f.store.queue.retiredPage({}, { offset: 1, limit: 2 });
    assert.deepEqual([page.total, page.items.map((r) => r.address)], [4, ['c@bücher.example', 'b@example.org']]);
    assert.deepEqual((await f.store.queue.retiredPage({ from: 'JÖRG' })).items.map((r) => r.address), ['b@example.org']); // Unicode case folding, as JavaScript's
    assert.deepEqual((await f.store.queue.retiredPage({ to: 'BÜCHER' })).items.map((r) => r.address), ['c@bücher.example']);
    const failed = await f.store.queue.retiredPage({ success: false, to: 'example.org' }, { offset: 0, limit: 1 });
    assert.deepEqual([failed.total, failed.items.map((r) => r.address)], [2, ['d@example.org']]);
    assert.deepEqual((await f.store.queue.retiredPage({ retiredAfter: 2500, account: 'mjl' })).items.length, 2);
    assert.deepEqual((await f.store.queue.retiredPage({ ids: [all.items[3]!.id] })).items.map((r) => r.address), ['a@example.org']);
    assert.equal((await f.store.queue.retiredPage({ account: 'other' })).total, 0);
  } finally {
    await f.done();
  }
});
