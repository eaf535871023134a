// Store delivery throughput: durable deliveries/s of 10 KiB messages with 1 and 20
// concurrent writers, next to the raw limit of the same disk measured in the same run
// (sequential write + fsync of a new 10 KiB file), and the event loop's worst delay.
// Run: npx node bench/store.ts [seconds per case, default 4]. MAILCOVE_BENCH_DIR picks the disk.
import { mkdtemp, open, rm, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openStore } from '../src/store/index.ts';

const seconds = Number(process.argv[2] ?? 4);
const base = await mkdtemp(`${process.env['MAILCOVE_BENCH_DIR'] ?? tmpdir()}/mailcove-bench-`);
const message = Buffer.alloc(10 * 1024, 'x');
message.write('Subject: bench\r\n\r\n');

async function timed(run: (until: number) => Promise<number>): Promise<{ perSecond: number; maxLoopDelayMs: number; p99LoopDelayMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const start = performance.now();
  const n = await run(start + seconds * 1000);
  const elapsed = (performance.now() - start) / 1000;
  h.disable();
  return { perSecond: n / elapsed, maxLoopDelayMs: h.max / 1e6, p99LoopDelayMs: h.percentile(99) / 1e6 };
}

async function raw(): Promise<number> {
  const dir = `${base}/raw`;
  await rm(dir, { recursive: true, force: true });
  await import('node:fs/promises').then((f) => f.mkdir(dir));
  return (await timed(async (until) => {
    let n = 0;
    while (performance.now() < until) {
      const h = await open(`${dir}/${n}`, 'wx');
      await h.writeFile(message);
      await h.sync();
      await h.close();
      n++;
    }
    return n;
  })).perSecond;
}

async function deliveries(writers: number) {
  const dataDir = `${base}/data-${writers}`;
  const store = await openStore(dataDir);
  await store.createAccount('bench');
  const account = await store.openAccount('bench');
  let seq = 0;
  const result = await timed(async (until) => {
    let n = 0;
    await Promise.all(Array.from({ length: writers }, async () => {
      while (performance.now() < until) {
        const spool = `${dataDir}/spool-${seq++}`;
        await writeFile(spool, message); // as the SMTP server spools it (not synced: the store syncs)
        await account.deliver('INBOX', { spoolPath: spool });
        await unlink(spool);
        n++;
      }
    }));
    return n;
  });
  const status = await account.mailboxStatus('INBOX');
  await account.close();
  await store.close();
  return { ...result, delivered: status.total };
}

try {
  const rawBefore = await raw();
  const one = await deliveries(1);
  const twenty = await deliveries(20);
  const rawAfter = await raw();
  const rawLimit = (rawBefore + rawAfter) / 2;
  const fmt = (x: number) => x.toFixed(0).padStart(7);
  console.log(`raw limit (sequential write+fsync of a 10 KiB file): ${fmt(rawLimit)} /s (before ${rawBefore.toFixed(0)}, after ${rawAfter.toFixed(0)})`);
  for (const [name, r] of [['1 writer ', one], ['20 writers', twenty]] as const) {
    console.log(`deliveries, ${name}: ${fmt(r.perSecond)} /s  ratio to raw ${(r.perSecond / rawLimit).toFixed(2)}  event loop delay p99 ${r.p99LoopDelayMs.toFixed(1)} ms, max ${r.maxLoopDelayMs.toFixed(1)} ms  (${r.delivered} delivered)`);
  }
} finally {
  await rm(base, { recursive: true, force: true });
}
