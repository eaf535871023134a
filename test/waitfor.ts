// Polling for an asynchronous outcome in tests (a queue delivery, a retired entry): calls
// fn until it returns something other than undefined, or fails naming what was awaited.
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000, intervalMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
