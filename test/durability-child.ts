// Child of test/durability.test.ts: delivers messages with 20 concurrent writers into
// account "crash" of the data directory argv[2], and prints one line per acknowledged
// (durable) operation until it is killed:
//   D <uid> <messageId> <sha256 of the message>   after deliver() resolved
//   F <uid>                                        after storeFlags(+\Seen) resolved
import { createHash, randomBytes } from 'node:crypto';
import { writeFile, unlink, mkdir } from 'node:fs/promises';
import { openStore } from '../src/store/index.ts';

const dataDir = process.argv[2]!;
const store = await openStore(dataDir);
const account = await store.openAccount('crash');
const spoolDir = `${dataDir}/spool`;
await mkdir(spoolDir, { recursive: true });
let seq = 0;

async function writer(): Promise<never> {
  for (;;) {
    const message = Buffer.concat([Buffer.from(`Subject: ${seq}\r\n\r\n`), randomBytes(512 + (seq % 7) * 1000).toString('base64url').match(/.{1,76}/g)!.map((l) => Buffer.from(`${l}\r\n`)).reduce((a, b) => Buffer.concat([a, b]))]);
    const spool = `${spoolDir}/${process.pid}-${seq++}`;
    await writeFile(spool, message);
    const added = await account.deliver('INBOX', { spoolPath: spool });
    process.stdout.write(`D ${added.uid} ${added.messageId} ${createHash('sha256').update(message).digest('hex')}\n`); // pipes are written synchronously on Linux
    await unlink(spool);
    if (added.uid % 3 === 0) {
      await account.storeFlags('INBOX', [added.uid], { mode: 'add', flags: ['\\Seen'] });
      process.stdout.write(`F ${added.uid}\n`);
    }
  }
}

process.stdout.write('ready\n');
await Promise.all(Array.from({ length: 20 }, writer));
