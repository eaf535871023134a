// Export streams: a 20 MB mailbox goes out through a slow consumer while memory stays far
// below the mailbox's size (backpressure is respected, nothing is collected first).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Account } from '../store/index.ts';
import { exportMail, type ExportOptions } from './index.ts';
import { fixture, type Fixture } from './testfixture.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void; // a baseline without garbage of earlier tests

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('export memory', () => {
  let f: Fixture;
  let account: Account;
  const messages = 80;
  const messageSize = 256 * 1024;

  before(async () => {
    f = await fixture();
    account = await f.account();
    for (let i = 0; i < messages; i++) {
      const body = Buffer.from(randomBytes((messageSize / 4) * 3).toString('base64').replace(/.{76}/g, '$&\r\n')); // incompressible, so the archive is as big
      await account.append('INBOX', { data: Buffer.concat([Buffer.from(`Subject: ${i}\r\n\r\n`), body]) });
    }
  });
  after(() => f.done());

  for (const o of [{ format: 'maildir', archive: 'zip' }, { format: 'mbox', archive: 'tgz' }] satisfies ExportOptions[]) {
    test(`${o.format} in ${o.archive}: 20 MB through a slow reader with peak memory growth far below 20 MB`, async () => {
      gc();
      const base = used();
      let peak = 0;
      let written = 0;
      let writes = 0;
      const slow = new Writable({
        highWaterMark: 64 * 1024,
        write(chunk: Buffer, _enc, done) {
          written += chunk.length;
          if (++writes % 32 === 0) {
            gc(); // what is still referenced, not garbage waiting for a collection
            peak = Math.max(peak, used() - base);
          }
          setImmediate(done); // a reader slower than the store
        },
      });
      const r = await exportMail(account, o, slow);
      assert.equal(r.messages, messages);
      assert.ok(written > messages * messageSize * 0.7, `${written} octets written`);
      assert.ok(peak < 6 * 1024 * 1024, `peak growth ${(peak / 1024 / 1024).toFixed(1)} MiB`);
    });
  }
});
