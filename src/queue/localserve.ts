// localserve's queue delivery: nothing leaves the machine. A message goes back into the
// localserve account, unless a recipient's localpart asks for a failure, so that an
// application can see its DSN handling work: queuetempfail@, queuepermfail@, queuetimeout@
// or queue<code>@ (e.g. queue550@, queue452@) fail at delivery from the queue, after the
// submission was accepted.
import { buffer } from 'node:stream/consumers';
import type { QueuedRecipient } from '../store/index.ts';
import type { OutboundMessage, RecipientOutcome } from '../smtpclient/index.ts';
import type { AccountAccess } from './queue.ts';

const pattern = /^queue(tempfail|permfail|timeout|[245]\d\d)$/i;

/** The failure a recipient's localpart asks for, or undefined for a normal delivery. */
export function queueSimulation(address: string): RecipientOutcome | undefined {
  const local = address.slice(0, address.lastIndexOf('@'));
  const m = pattern.exec(local);
  if (!m) return undefined;
  const kind = m[1]!.toLowerCase();
  const where = { mx: 'localserve', tls: 'none' };
  if (kind === 'tempfail') return { ok: false, permanent: false, code: 451, enhanced: '4.3.0', message: 'simulated temporary failure', ...where };
  if (kind === 'permfail') return { ok: false, permanent: true, code: 550, enhanced: '5.0.0', message: 'simulated permanent failure', ...where };
  if (kind === 'timeout') return { ok: false, permanent: false, code: 421, enhanced: '4.4.2', message: 'simulated timeout', ...where };
  const code = Number(kind);
  if (code < 400) return { ok: true, permanent: false, code: 250, message: 'delivered', ...where };
  return { ok: false, permanent: code >= 500, code, enhanced: `${kind[0]}.0.0`, message: `simulated error ${kind}`, ...where };
}

export async function deliverLocalserve(
  o: { accounts: AccountAccess; account: string; timeoutMs: number },
  batch: ReadonlyArray<{ message: OutboundMessage; recipients: readonly QueuedRecipient[] }>,
): Promise<Map<number, RecipientOutcome>> {
  const outcomes = new Map<number, RecipientOutcome>();
  for (const { message, recipients } of batch) {
    const normal: QueuedRecipient[] = [];
    for (const r of recipients) {
      const sim = queueSimulation(r.address);
      if (sim?.message === 'simulated timeout') await new Promise((res) => setTimeout(res, Math.min(o.timeoutMs, 5 * 60_000)));
      if (sim && !sim.ok) outcomes.set(r.id, sim);
      else normal.push(r);
    }
    if (normal.length === 0) continue;
    try {
      const data = await buffer(message.open());
      await o.accounts.with(o.account, (a) => a.append('INBOX', { data })); // one copy for all recipients: they all are this account
      for (const r of normal) outcomes.set(r.id, { ok: true, permanent: false, code: 250, enhanced: '2.0.0', message: `delivered to account ${o.account}`, mx: 'localserve', tls: 'none' });
    } catch (e) {
      for (const r of normal) outcomes.set(r.id, { ok: false, permanent: false, code: 451, enhanced: '4.3.0', message: `local delivery: ${(e as Error).message}` });
    }
  }
  return outcomes;
}
