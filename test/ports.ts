// Free loopback ports for tests that need fixed offsets from a base port (localserve):
// picks random bases until every offset can be bound on 127.0.0.1.
import { connect, createServer } from 'node:net';

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

export async function freeBasePort(offsets: readonly number[], host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    const ok = await Promise.all(offsets.map((o) => canBind(base + o, host)));
    if (ok.every(Boolean)) return base;
  }
  throw new Error('no free base port found');
}

/** Waits until something accepts connections on 127.0.0.1:port (a peer daemon started in the background). */
export async function waitPort(port: number, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} did not open`);
}
