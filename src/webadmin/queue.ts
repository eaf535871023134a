// Admin methods for the outbound queue (src/queue): the queue with filters and pages and
// hold/release/reschedule/fail/drop of chosen entries, the retired history, hold rules and
// the per-account suppression lists. Without a running queue they answer "queue not running".
import { z } from 'zod';
import { ApiError } from '../http/index.ts';
import { ruleDomain, type Queue, type QueueEntry } from '../queue/index.ts';
import type { DeliveryAttempt, HoldRule, RetiredRecipient, Suppression } from '../store/index.ts';
import { adminMethod, page, wire, type AdminSurfaceDeps, type Page, type Wire } from './method.ts';

const time = z.int().min(0); // ms since epoch
const text = z.string().trim().max(320).optional().transform((s) => s || undefined); // '' (an empty filter field) is no criterion
const maxPage = 1000;
const paging = { offset: z.int().min(0).default(0), limit: z.int().min(1).max(maxPage).default(50) };
// Queue entry (recipient) ids, ticked on one page. src/queue matches each entry against the list, so it stays short.
const ids = z.array(z.int().positive()).min(1).max(maxPage);

/** A retired recipient in the list: its attempts are counted here and fetched on request. */
export type RetiredSummary = Omit<RetiredRecipient, 'attempts'> & { attempts: number; lastAttempt?: DeliveryAttempt };

export function queueMethods(d: AdminSurfaceDeps) {
  const queue = (): Queue => {
    if (!d.queue) throw new ApiError('user:error', 'queue not running');
    return d.queue;
  };

  return {
    /** Queue entries (one per recipient) in queue order; every given criterion must match. */
    queueList: adminMethod(
      z.object({ account: text, from: text, to: text, held: z.boolean().optional(), submittedAfter: time.optional(), submittedBefore: time.optional(), nextAttemptAfter: time.optional(), nextAttemptBefore: time.optional(), ...paging }),
      async ({ offset, limit, ...f }): Promise<Wire<Page<QueueEntry>>> => wire(page(await queue().list(f), offset, limit)),
    ),

    /** Entries being delivered right now are left alone; count says how many were changed. */
    queueHold: adminMethod(z.object({ ids }), async ({ ids: i }) => ({ count: await queue().hold({ ids: i }) })),
    queueRelease: adminMethod(z.object({ ids }), async ({ ids: i }) => ({ count: await queue().release({ ids: i }) })),
    /** Next attempt at `at`, or now. Held entries stay held. */
    queueSchedule: adminMethod(z.object({ ids, at: time.optional() }), async ({ ids: i, at }) => ({ count: await queue().schedule({ ids: i }, at === undefined ? {} : { at: new Date(at) }) })),
    /** Fails the entries now, with a failure DSN to the sender, and retires them. */
    queueFail: adminMethod(z.object({ ids }), async ({ ids: i }) => ({ count: await queue().fail({ ids: i }) })),
    /** Removes the entries: no DSN, no history. */
    queueDrop: adminMethod(z.object({ ids }), async ({ ids: i }) => ({ count: await queue().drop({ ids: i }) })),
    queueAttempts: adminMethod(z.object({ id: z.int().positive() }), async ({ id }): Promise<DeliveryAttempt[]> => queue().attempts(id)),

    /** Delivered and failed recipients, newest first. */
    retiredList: adminMethod(
      z.object({ account: text, from: text, to: text, success: z.boolean().optional(), retiredAfter: time.optional(), fromid: text, ...paging }),
      async ({ offset, limit, ...f }): Promise<Wire<Page<RetiredSummary>>> => {
        const p = await queue().retiredPage(f, { offset, limit }); // filtered and paged in SQL: the history can hold millions
        return wire({ total: p.total, offset, items: p.items.map(({ attempts, ...r }) => ({ ...r, attempts: attempts.length, ...(attempts.length ? { lastAttempt: attempts[attempts.length - 1]! } : {}) })) });
      },
    ),
    retiredAttempts: adminMethod(z.object({ id: z.int().positive() }), async ({ id }): Promise<DeliveryAttempt[]> => {
      const r = (await queue().retiredPage({ ids: [id] }, { offset: 0, limit: 1 })).items[0];
      if (!r) throw new ApiError('user:error', `no retired entry ${id}`);
      return r.attempts;
    }),

    holdRules: adminMethod(z.object({}), async (): Promise<Wire<HoldRule[]>> => wire(await queue().holdRules())),
    /** Empty fields match anything; an empty rule holds everything. Queued entries it matches are held at once. */
    holdRuleAdd: adminMethod(z.object({ account: z.string().trim().max(64).default(''), senderDomain: ruleDomain.default(''), recipientDomain: ruleDomain.default('') }), async (rule): Promise<Wire<HoldRule>> => {
      if (rule.account !== '' && !d.domains().accounts[rule.account]) throw new ApiError('user:error', `no account ${JSON.stringify(rule.account)}`);
      return wire(await queue().addHoldRule(rule));
    }),
    /** Entries the rule held stay held until released. */
    holdRuleRemove: adminMethod(z.object({ id: z.int().positive() }), async ({ id }) => {
      await queue().removeHoldRule(id);
      return {};
    }),

    suppressions: adminMethod(z.object({ account: text }), async ({ account }): Promise<Wire<Suppression[]>> => wire(await queue().suppressions(account))),
    suppressionAdd: adminMethod(
      z.object({ account: z.string().min(1).max(64), address: z.string().trim().regex(/^[^\s@]+@[^\s@]+$/, 'not an email address (localpart@domain)').max(320), reason: z.string().trim().max(500).optional() }),
      async ({ account, address, reason }) => {
        if (!d.domains().accounts[account]) throw new ApiError('user:error', `no account ${JSON.stringify(account)}`);
        await queue().addSuppression(account, address, reason || undefined);
        return {};
      },
    ),
    suppressionRemove: adminMethod(z.object({ account: z.string().min(1).max(64), address: z.string().trim().min(1).max(320) }), async ({ account, address }) => {
      await queue().removeSuppression(account, address);
      return {};
    }),
  };
}
