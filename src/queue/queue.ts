// The outbound queue: picks due recipients, applies hold rules and suppression lists,
// groups recipients per destination (transport and domain) so that one connection carries
// every message for a domain, runs a bounded number of deliveries at once (one per
// domain), and turns results into retries with backoff, DSNs, suppression entries, the
// retired history and TLS-report counts. Operations (list, hold, release, ...) are here
// too; the control socket and the admin UI call them.
import { buffer } from 'node:stream/consumers';
import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { DomainsConfig, Route, StaticConfig, Transport } from '../config/index.ts';
import type { Resolver } from '../dns/index.ts';
import { logger, type Logger } from '../log/index.ts';
import { counter, gauge, gaugeCollected } from '../metrics/index.ts';
import type { Account, DeliveryAttempt, HoldRule, QueuedMessage, QueuedRecipient, RetiredRecipient, Store, Suppression, TlsResult } from '../store/index.ts';
import { deliverDirect, deliverSmarthost, IpFailures, refreshDue, resolvePolicy, socksConnect, StsFetchBackoff, type CachedPolicy, type MtaStsPolicyStorage, type OutboundMessage, type RecipientOutcome } from '../smtpclient/index.ts';
import { sendDsn, wantsDsn, type DsnEntry, type DsnSink } from './dsn.ts';
import { holdRuleMatches, matchesQueued, senderDomain, type QueueFilter, type RetiredFilter } from './filter.ts';
import { domainToASCII } from 'node:url';
import { baseAddress, suppressAfterFailures, suppressingFailure } from './suppression.ts';
import { deliverLocalserve } from './localserve.ts';

const minute = 60_000;
const day = 24 * 60 * minute;

export interface AccountAccess {
  with<T>(name: string, fn: (a: Account) => Promise<T>): Promise<T>;
}

export interface QueueOptions {
  store: Store;
  static: StaticConfig;
  configDir: string;
  domains: () => DomainsConfig;
  resolver: Resolver;
  accounts: AccountAccess;
  /** localserve: deliveries go back into this account (or fail as the recipient's localpart asks). */
  localserve?: { account: string; timeoutMs?: number };
  /** Test-only: MX and MTA-STS ports, extra trusted CAs, and the first retry delay. */
  testing?: { mxPort?: number; mtaStsPort?: number; ca?: string[]; firstRetryMs?: number };
  log?: Logger;
}

/** A queue entry as shown by `queue list` and the admin page. */
export interface QueueEntry {
  id: number; // recipient id
  messageId: number;
  account: string;
  mailFrom: string;
  recipient: string;
  size: number;
  submitted: Date;
  attempts: number;
  nextAttempt: Date;
  held: boolean;
  lastError?: string;
  lastAttempt?: Date;
  requireTLS: boolean | null;
}

const firstRetryMs = 7.5 * minute; // then doubling (issue 5)

const attemptsMetric = counter('mailcove_queue_attempts_total', 'Delivery attempts by transport and result (delivered, deferred, failed).', ['transport', 'result'], [{ transport: 'direct', result: 'delivered' }, { transport: 'direct', result: 'deferred' }, { transport: 'direct', result: 'failed' }]);
const dsnMetric = counter('mailcove_queue_dsn_total', 'DSNs sent by kind (RFC 3464 action).', ['kind'], [{ kind: 'failed' }, { kind: 'delayed' }]);
const tlsMetric = counter('mailcove_queue_tls_results_total', 'Outbound TLS outcomes by policy type and result (RFC 8460 result types).', ['policy', 'result']);
const runningMetric = gauge('mailcove_queue_deliveries_running', 'Deliveries (connections to a destination) running now.');

export class Queue {
  readonly #o: QueueOptions;
  readonly #log: Logger;
  readonly #busy = new Set<string>(); // destinations with a delivery running
  readonly #inflight = new Set<number>(); // recipient ids being delivered
  readonly #running = new Set<Promise<void>>();
  readonly #ipFailures = new IpFailures();
  readonly #stsBackoff = new StsFetchBackoff();
  readonly #unwatch: () => void;
  #timer: NodeJS.Timeout | undefined;
  #purgeTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #scanning = false;
  #rescan = false;

  private constructor(o: QueueOptions) {
    this.#o = o;
    this.#log = o.log ?? logger('queue');
    this.#unwatch = o.store.queue.watch(() => this.kick());
  }

  /** Starts delivering: whatever is due now, then on each add and at each next attempt time. */
  static start(o: QueueOptions): Queue {
    const q = new Queue(o);
    gaugeCollected<'state'>('mailcove_queue_recipients', 'Recipients in the outbound queue: waiting for an attempt (queued) and held.', ['state'], async () => {
      const c = await o.store.queue.counts().catch(() => undefined); // a stopped queue's store may be closed
      if (!c) return [];
      return [{ labels: { state: 'queued' }, value: c.queued - c.held }, { labels: { state: 'held' }, value: c.held }];
    });
    q.kick();
    q.#purgeTimer = setInterval(() => void q.#purge(), 60 * minute);
    q.#purgeTimer.unref();
    void q.#purge();
    return q;
  }

  get #settings() {
    return this.#o.static.queue;
  }

  /** Looks for due work soon (after an add, a release, a reschedule). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#scan(), 0);
  }

  /**
   * Stops scheduling and waits for running deliveries, at most `graceMs`: a delivery still
   * running then is abandoned unrecorded and tried again after the restart (its recipients
   * stay queued; the receiver may get the message twice, never zero times).
   */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopped = true;
    this.#unwatch();
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#purgeTimer) clearInterval(this.#purgeTimer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.#running]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
  }

  /** Hourly housekeeping: the retired history past its keep time, and MTA-STS policies due for a refresh. */
  async #purge(): Promise<void> {
    try {
      const n = await this.#o.store.queue.purgeRetired(Date.now());
      if (n > 0) this.#log.info({ removed: n }, 'retired history purged');
    } catch (e) {
      this.#log.error({ err: e }, 'purging retired history');
    }
    if (this.#o.localserve) return;
    try {
      const storage = this.#policyStorage();
      for (const { domain, data } of await this.#o.store.queue.listMtaStsPolicies()) {
        if (this.#stopped) return;
        if ((data as CachedPolicy).expires <= Date.now()) {
          await this.#o.store.queue.deleteMtaStsPolicy(domain); // expired: never used again (RFC 8461 §5.1), a new delivery fetches anew
          continue;
        }
        // RFC 8461 §5.1 / §10.2: refresh policies before they expire, so a domain is not left without its policy.
        if (refreshDue(data as CachedPolicy, Date.now())) await resolvePolicy(domain, { resolver: this.#o.resolver, storage, refresh: true, backoff: this.#stsBackoff, ...(this.#o.testing?.mtaStsPort ? { port: this.#o.testing.mtaStsPort } : {}), ...(this.#o.testing?.ca ? { ca: this.#o.testing.ca } : {}) });
      }
    } catch (e) {
      this.#log.error({ err: e }, 'refreshing MTA-STS policies');
    }
  }

  async #scan(): Promise<void> {
    if (this.#stopped) return;
    if (this.#scanning) {
      this.#rescan = true;
      return;
    }
    this.#scanning = true;
    try {
      do {
        this.#rescan = false;
        await this.#startDue();
      } while (this.#rescan && !this.#stopped);
      await this.#arm();
    } catch (e) {
      this.#log.error({ err: e }, 'queue scan failed; retrying in a minute');
      if (!this.#stopped) this.#timer = setTimeout(() => void this.#scan(), minute);
    } finally {
      this.#scanning = false;
    }
  }

  /** Sets the timer for the next due recipient. */
  async #arm(): Promise<void> {
    if (this.#stopped) return;
    const next = await this.#o.store.queue.nextDue();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (next === undefined) return;
    const delay = Math.max(0, Math.min(next - Date.now(), 2 ** 31 - 1));
    if (delay === 0 && this.#running.size > 0) return; // due work waits for a free slot; a finishing delivery scans again
    this.#timer = setTimeout(() => void this.#scan(), Math.max(delay, 10));
  }

  /**
   * Starts deliveries for due destinations while slots are free. Destinations come from the
   * store longest-waiting first, busy ones left out; each one's due recipients are read,
   * grouped by transport, and only groups that start get their hold-rule and suppression
   * checks (a scan costs what it starts, not what is queued).
   */
  async #startDue(): Promise<void> {
    const s = this.#settings;
    if (this.#running.size >= s.concurrency) return;
    const now = Date.now();
    const busyDomains = [...this.#busy].map((k) => k.slice(k.indexOf('\0') + 1)).filter((d) => d !== '');
    const domains = await this.#o.store.queue.dueDomains(now, (s.concurrency - this.#running.size) * 2 + 10, busyDomains);
    let rules: HoldRule[] | undefined;
    for (const domain of domains) {
      if (this.#running.size >= s.concurrency) break;
      const groups = new Map<string, { transport: string; items: Array<{ m: QueuedMessage; rs: QueuedRecipient[] }> }>();
      for (const m of await this.#o.store.queue.due(now, 2000, domain)) {
        for (const r of m.recipients) {
          if (this.#inflight.has(r.id)) continue;
          const transport = this.#o.localserve ? 'localserve' : this.#route(m, r);
          const key = `${transport}\0${transport === 'direct' || transport === 'localserve' || 'socks' in (this.#o.static.transports[transport] ?? {}) ? r.domain : ''}`;
          let g = groups.get(key);
          if (!g) groups.set(key, (g = { transport, items: [] }));
          const last = g.items.at(-1);
          if (last?.m.id === m.id) last.rs.push(r);
          else g.items.push({ m, rs: [r] });
        }
      }
      for (const [key, g] of groups) {
        if (this.#running.size >= s.concurrency) break;
        if (this.#busy.has(key)) continue; // one connection per destination at a time; the rest waits for it
        const items: Array<{ m: QueuedMessage; rs: QueuedRecipient[] }> = [];
        for (const it of g.items) {
          const unchecked = it.rs.filter((r) => !r.holdChecked && r.attempts === 0);
          if (unchecked.length > 0) rules ??= await this.#o.store.queue.listHoldRules();
          const held = unchecked.filter((r) => rules!.some((rule) => holdRuleMatches(rule, it.m, r)));
          if (held.length > 0) {
            await this.#o.store.queue.setHeld(held.map((r) => r.id), true);
            this.#log.info({ ids: held.map((r) => r.id) }, 'held by a hold rule');
          }
          const rs = it.rs.filter((r) => !held.includes(r));
          const suppressed = rs.length > 0 ? await this.#suppressed(it.m, rs) : new Set<number>();
          const live = rs.filter((r) => !suppressed.has(r.id));
          if (live.length > 0) items.push({ m: it.m, rs: live });
        }
        if (items.length > 0) this.#launch(key, g.transport, domain, items);
      }
    }
    runningMetric.set({}, this.#running.size);
  }

  #launch(key: string, transport: string, domain: string, items: Array<{ m: QueuedMessage; rs: QueuedRecipient[] }>): void {
    this.#busy.add(key);
    for (const it of items) for (const r of it.rs) this.#inflight.add(r.id);
    const p = this.#deliver(transport, domain, items)
      .catch((e: unknown) => this.#log.error({ err: e, domain }, 'delivery failed unexpectedly'))
      .finally(() => {
        this.#busy.delete(key);
        for (const it of items) for (const r of it.rs) this.#inflight.delete(r.id);
        this.#running.delete(p);
        runningMetric.set({}, this.#running.size);
        this.kick();
      });
    this.#running.add(p);
  }

  /** The transport for a recipient: the first matching route (RFC-less policy), else direct. */
  #route(m: QueuedMessage, r: QueuedRecipient): string {
    const sender = senderDomain(m);
    const domainIn = (list: readonly string[], d: string) => list.length === 0 || list.some((x) => (domainToASCII(x) || x).toLowerCase() === d.toLowerCase()); // config may name U-labels
    const route = this.#o.static.routes.find((rt: Route) => (rt.account.length === 0 || rt.account.includes(m.account)) && domainIn(rt.fromDomain, sender) && domainIn(rt.toDomain, r.domain) && r.attempts >= rt.minimumAttempts);
    return route?.transport ?? 'direct';
  }

  /** Recipients on the sending account's suppression list fail at once, without an attempt. */
  async #suppressed(m: QueuedMessage, rs: readonly QueuedRecipient[]): Promise<Set<number>> {
    const out = new Set<number>();
    if (m.account === '') return out;
    for (const r of rs) {
      if (r.attempts > 0) continue; // only before the first attempt: a message on its way is not cut off by a later entry
      const s = await this.#o.store.queue.getSuppression(m.account, baseAddress(r.address));
      if (!s) continue;
      out.add(r.id);
      await this.#finish(m, [r], { success: false, transport: 'suppressed', code: 550, enhanced: '5.7.1', error: `recipient is on the suppression list of account ${m.account}: ${s.reason}` }, { ok: false, permanent: true, code: 550, enhanced: '5.7.1', message: `suppressed: ${s.reason}` });
    }
    return out;
  }

  #outbound(m: QueuedMessage, rs: readonly QueuedRecipient[]): OutboundMessage {
    return {
      mailFrom: this.#mailFrom(m), recipients: rs.map((r) => ({ id: r.id, address: r.address, ...(r.notify ? { notify: r.notify } : {}), ...(r.orcpt ? { orcpt: r.orcpt } : {}) })),
      size: m.size, body: m.body, smtputf8: m.smtputf8, ...(m.envid !== undefined ? { envid: m.envid } : {}), ...(m.ret ? { ret: m.ret } : {}), requireTLS: m.requireTLS,
      open: () => {
        // The client asks for a stream when it starts the data; the store hands it asynchronously.
        const out = new PassThrough();
        this.#o.store.queue.openMessage(m.id).then((s) => s.pipe(out), (e: unknown) => out.destroy(e as Error));
        return out;
      },
    };
  }

  /** MAIL FROM with the unique id when the message has one: localpart, the domain's first catch-all separator, the id. */
  #mailFrom(m: QueuedMessage): string {
    if (!m.fromid || m.mailFrom === '') return m.mailFrom;
    const at = m.mailFrom.lastIndexOf('@');
    const domain = this.#o.domains().domains[m.mailFrom.slice(at + 1).toLowerCase()];
    const sep = domain ? (typeof domain.localpartCatchallSeparator === 'string' ? domain.localpartCatchallSeparator : domain.localpartCatchallSeparator?.[0] ?? '+') : '+';
    return `${m.mailFrom.slice(0, at)}${sep}${m.fromid}${m.mailFrom.slice(at)}`;
  }

  async #deliver(transport: string, domain: string, items: Array<{ m: QueuedMessage; rs: QueuedRecipient[] }>): Promise<void> {
    const attempt = Math.min(...items.flatMap((it) => it.rs.map((r) => r.attempts)));
    // TLS outcomes are written when they happen, before the messages sent over that connection are recorded
    // (group commits keep that order), so a retired message's TLS result is never missing.
    const tlsWrites: Array<Promise<void>> = [];
    const tlsOutcome = (t: TlsResult) => {
      tlsMetric.inc({ policy: t.policy, result: t.result });
      tlsWrites.push(this.#o.store.queue.recordTlsResults([t]).catch((e: unknown) => this.#log.error({ err: e }, 'recording a TLS result failed')));
    };
    const ctx = {
      resolver: this.#o.resolver, hostname: this.#o.static.hostname, log: this.#log, attempt, ipFailures: this.#ipFailures, stsBackoff: this.#stsBackoff,
      mtaSts: this.#policyStorage(), tlsOutcome, ...(this.#o.testing ? { testing: this.#o.testing } : {}),
    };
    // Each message is recorded as soon as its recipients have outcomes (after its 250, say), so a crash later in a
    // long batch does not send it again; recording runs beside the sending and the transactions share group commits.
    const recording: Array<Promise<void>> = [];
    const recorded = new Set<number>();
    const record = (i: number, outcomes: ReadonlyMap<number, RecipientOutcome>) => {
      if (recorded.has(i)) return;
      recorded.add(i);
      recording.push(this.#record(transport, items[i]!, outcomes).catch((e: unknown) => this.#log.error({ err: e, message: items[i]!.m.id }, 'recording a delivery attempt failed')));
    };
    const messages = items.map((it, i) => ({ ...this.#outbound(it.m, it.rs), onDone: (o: ReadonlyMap<number, RecipientOutcome>) => record(i, o) }));
    let outcomes: Map<number, RecipientOutcome>;
    const t: Transport | undefined = this.#o.static.transports[transport];
    this.#log.debug({ transport, domain, messages: items.length }, 'delivering');
    if (transport === 'localserve') outcomes = await deliverLocalserve({ accounts: this.#o.accounts, account: this.#o.localserve!.account, timeoutMs: this.#o.localserve?.timeoutMs ?? 30 * minute }, items.map((it, i) => ({ message: messages[i]!, recipients: it.rs })));
    else if (transport === 'direct' || !t || 'direct' in t) outcomes = await deliverDirect(ctx, domain, messages);
    else if ('socks' in t) outcomes = await deliverDirect({ ...ctx, hostname: t.socks.hostname ?? ctx.hostname, connect: (ip, port) => socksConnect(t.socks.address, ip, port) }, domain, messages);
    else {
      const password = t.smarthost.passwordFile ? (await readFile(isAbsolute(t.smarthost.passwordFile) ? t.smarthost.passwordFile : join(this.#o.configDir, t.smarthost.passwordFile), 'utf8')).split('\n')[0]!.trim() : undefined;
      outcomes = await deliverSmarthost(ctx, { host: t.smarthost.host, ...(t.smarthost.port ? { port: t.smarthost.port } : {}), tls: t.smarthost.tls, ...(t.smarthost.username ? { username: t.smarthost.username } : {}), ...(password !== undefined ? { password } : {}), verifyTLS: t.smarthost.verifyTLS }, messages);
    }
    await Promise.all(tlsWrites);
    items.forEach((_, i) => record(i, outcomes));
    await Promise.all(recording);
  }

  /** Records one message's outcomes; recipients with the same outcome together (one transaction). */
  async #record(transport: string, it: { m: QueuedMessage; rs: QueuedRecipient[] }, outcomes: ReadonlyMap<number, RecipientOutcome>): Promise<void> {
    const byOutcome = new Map<RecipientOutcome, QueuedRecipient[]>();
    for (const r of it.rs) {
      const o = outcomes.get(r.id) ?? { ok: false, permanent: false, message: 'no outcome' };
      byOutcome.set(o, [...(byOutcome.get(o) ?? []), r]);
    }
    for (const [o, rs] of byOutcome) {
      const a: DeliveryAttempt = {
        time: new Date().toISOString(), transport, success: o.ok, ...(o.mx ? { mx: o.mx } : {}), ...(o.ip ? { ip: o.ip } : {}), ...(o.tls ? { tls: o.tls } : {}),
        ...(o.code !== undefined ? { code: o.code } : {}), ...(o.enhanced ? { enhanced: o.enhanced } : {}), ...(o.ok ? {} : { error: o.message }),
      };
      await this.#finish(it.m, rs, a, o);
    }
  }

  /** Records an attempt and what follows from it: retirement, retry, DSNs, suppression. */
  async #finish(m: QueuedMessage, rs: readonly QueuedRecipient[], a: Omit<DeliveryAttempt, 'time'> & { time?: string }, o: RecipientOutcome): Promise<void> {
    const q = this.#o.store.queue;
    const s = this.#settings;
    const attempt: DeliveryAttempt = { time: a.time ?? new Date().toISOString(), ...a };
    const keepUntil = new Date(Date.now() + s.retiredDays * day);
    const attempts = (rs[0]?.attempts ?? 0) + 1;
    const final = o.ok || o.permanent || attempts >= s.maxAttempts;
    const dsn: DsnEntry[] = [];
    if (o.ok) {
      // RFC 3461 §5.2.2: a next hop without DSN (or our own final delivery) means we report the success, if asked.
      const kind = this.#o.localserve ? 'delivered' : 'relayed';
      if (o.relayedWithoutDsn || this.#o.localserve) for (const r of rs) if (wantsDsn(r, kind)) dsn.push({ recipient: r, kind, status: '2.0.0', diagnostic: o.reply ?? o.message, ...(o.mx ? { remoteMta: o.mx } : {}) });
      await this.#sendDsn(m, dsn);
      await q.recordAttempt(rs.map((r) => r.id), attempt, { kind: 'retire', success: true, keepUntil });
    } else if (final) {
      for (const r of rs) if (wantsDsn(r, 'failed')) dsn.push({ recipient: r, kind: 'failed', status: o.enhanced?.startsWith('5') ? o.enhanced : o.permanent ? '5.0.0' : '4.4.7', diagnostic: o.reply ?? o.message, ...(o.mx ? { remoteMta: o.mx } : {}) }); // RFC 3463 4.4.7: delivery time expired
      await this.#sendDsn(m, dsn);
      const suppress: Array<Omit<Suppression, 'created'>> = [];
      if (m.account !== '' && a.transport !== 'suppressed' && a.transport !== 'admin') {
        for (const r of rs) {
          // A refusal that names the mailbox, or the recipient's last messages all failed (this one included).
          const reason = o.permanent && suppressingFailure(attempt) ? `permanent failure: ${o.message}`
            : await this.#failedInARow(m.account, r.address) ? `${suppressAfterFailures} messages in a row failed: ${o.message}` : undefined;
          if (reason) suppress.push({ account: m.account, base: baseAddress(r.address), address: r.address, reason, manual: false });
        }
      }
      // One transaction: the suppression is visible together with the failure that caused it.
      await q.recordAttempt(rs.map((r) => r.id), attempt, { kind: 'retire', success: false, keepUntil, suppress });
      for (const x of suppress) this.#log.info({ account: x.account, address: x.address }, 'recipient suppressed');
    } else {
      const delay = (this.#o.testing?.firstRetryMs ?? firstRetryMs) * 2 ** (attempts - 1); // 7.5 min, 15, 30, ...
      const delayed = attempts >= s.delayedDsnAfter && rs.some((r) => !r.delayedDsnSent);
      if (delayed) {
        const until = new Date(m.received.getTime() + (this.#o.testing?.firstRetryMs ?? firstRetryMs) * (2 ** (s.maxAttempts - 1) - 1));
        for (const r of rs) if (!r.delayedDsnSent && wantsDsn(r, 'delayed')) dsn.push({ recipient: r, kind: 'delayed', status: o.enhanced?.startsWith('4') ? o.enhanced : '4.0.0', diagnostic: o.reply ?? o.message, willRetryUntil: until, ...(o.mx ? { remoteMta: o.mx } : {}) });
      }
      await this.#sendDsn(m, dsn);
      await q.recordAttempt(rs.map((r) => r.id), attempt, { kind: 'retry', nextAttempt: new Date(Date.now() + delay), ...(delayed ? { delayedDsnSent: true } : {}) });
    }
    attemptsMetric.inc({ transport: a.transport, result: o.ok ? 'delivered' : final ? 'failed' : 'deferred' }, rs.length);
    this.#log.info({ message: m.id, rcpts: rs.map((r) => r.address), ok: o.ok, permanent: o.permanent, final, code: o.code, error: o.ok ? undefined : o.message }, o.ok ? 'delivered' : final ? 'delivery failed' : 'delivery deferred');
  }

  /**
   * Sends the DSN before the attempt is recorded: a retired message's file is gone. A crash
   * between the two sends the DSN again on the next attempt (at least once, never lost).
   */
  async #sendDsn(m: QueuedMessage, dsn: readonly DsnEntry[]): Promise<void> {
    if (dsn.length === 0) return;
    try {
      const where = await sendDsn(this.#dsnSink(), m, dsn);
      this.#log.info({ message: m.id, kind: dsn[0]!.kind, to: m.mailFrom, where }, 'DSN sent');
      if (where !== 'none') dsnMetric.inc({ kind: dsn[0]!.kind });
    } catch (e) {
      this.#log.error({ err: e, message: m.id }, 'sending DSN failed');
    }
  }

  /** Whether the recipient's previous messages failed too, so that with this one suppressAfterFailures failed in a row. */
  async #failedInARow(account: string, address: string): Promise<boolean> {
    const before = await this.#o.store.queue.retiredFor(account, address, suppressAfterFailures - 1);
    return before.length === suppressAfterFailures - 1 && before.every((x) => !x.success);
  }

  #dsnSink(): DsnSink {
    return {
      store: this.#o.store.queue, domains: this.#o.domains, hostname: this.#o.static.hostname, withAccount: (n, fn) => this.#o.accounts.with(n, fn),
      ...(this.#o.localserve ? { localAccount: this.#o.localserve.account } : {}),
    };
  }

  #policyStorage(): MtaStsPolicyStorage {
    const q = this.#o.store.queue;
    return { get: async (d) => (await q.getMtaStsPolicy(d)) as CachedPolicy | undefined, put: (d, p) => q.putMtaStsPolicy(d, p) };
  }

  // --- Operations (CLI through the control socket, admin page, API) ---

  async list(f: QueueFilter = {}): Promise<QueueEntry[]> {
    const out: QueueEntry[] = [];
    for (const m of await this.#o.store.queue.list()) {
      for (const r of m.recipients) {
        if (!matchesQueued(f, m, r)) continue;
        out.push({
          id: r.id, messageId: m.id, account: m.account, mailFrom: m.mailFrom, recipient: r.address, size: m.size, submitted: m.received, attempts: r.attempts,
          nextAttempt: r.nextAttempt, held: r.held, requireTLS: m.requireTLS, ...(r.lastError ? { lastError: r.lastError } : {}), ...(r.lastAttempt ? { lastAttempt: r.lastAttempt } : {}),
        });
      }
    }
    return out;
  }

  async #select(f: QueueFilter): Promise<Array<{ m: QueuedMessage; r: QueuedRecipient }>> {
    const out: Array<{ m: QueuedMessage; r: QueuedRecipient }> = [];
    for (const m of await this.#o.store.queue.list()) for (const r of m.recipients) if (matchesQueued(f, m, r) && !this.#inflight.has(r.id)) out.push({ m, r });
    return out;
  }

  async hold(f: QueueFilter): Promise<number> {
    const sel = await this.#select({ ...f, held: false });
    await this.#o.store.queue.setHeld(sel.map((x) => x.r.id), true);
    return sel.length;
  }

  async release(f: QueueFilter): Promise<number> {
    const sel = await this.#select({ ...f, held: true });
    await this.#o.store.queue.setHeld(sel.map((x) => x.r.id), false);
    this.kick();
    return sel.length;
  }

  /** Sets the next attempt: at a time, or moved by a number of ms (negative: earlier); default now. */
  async schedule(f: QueueFilter, when: { at?: Date; moveMs?: number } = {}): Promise<number> {
    const sel = await this.#select(f);
    for (const x of sel) await this.#o.store.queue.setNextAttempt([x.r.id], when.at ?? new Date(when.moveMs !== undefined ? x.r.nextAttempt.getTime() + when.moveMs : Date.now()));
    this.kick();
    return sel.length;
  }

  /** Fails the entries now, with a failure DSN to the sender (as after the last attempt). */
  async fail(f: QueueFilter): Promise<number> {
    const sel = await this.#select(f);
    for (const x of sel) await this.#finish(x.m, [x.r], { success: false, transport: 'admin', error: 'failed by the administrator' }, { ok: false, permanent: true, message: 'delivery canceled by the administrator', enhanced: '5.3.0' });
    return sel.length;
  }

  /** Removes the entries without a DSN and without history. */
  async drop(f: QueueFilter): Promise<number> {
    const sel = await this.#select(f);
    await this.#o.store.queue.remove(sel.map((x) => x.r.id));
    return sel.length;
  }

  /** The message of a queue entry, as it will be sent. */
  async dump(id: number): Promise<Buffer | undefined> {
    const sel = await this.#select({ ids: [id] });
    if (sel.length === 0) return undefined;
    return buffer(await this.#o.store.queue.openMessage(sel[0]!.m.id));
  }

  async attempts(id: number): Promise<DeliveryAttempt[]> {
    return this.#o.store.queue.attempts(id);
  }

  /** The retired history matching f, oldest first (the operator's list). */
  async retired(f: RetiredFilter = {}): Promise<RetiredRecipient[]> {
    return (await this.#o.store.queue.retiredPage(f)).items.reverse();
  }

  /** A page of the retired history matching f, newest first, with the total (the admin page). */
  async retiredPage(f: RetiredFilter, page: { offset: number; limit: number }): Promise<{ total: number; items: RetiredRecipient[] }> {
    return this.#o.store.queue.retiredPage(f, page);
  }

  async holdRules(): Promise<HoldRule[]> {
    return this.#o.store.queue.listHoldRules();
  }

  /** Adds a hold rule; queued entries it matches are held now, not only new ones. */
  async addHoldRule(rule: Omit<HoldRule, 'id' | 'created'>): Promise<HoldRule> {
    const r = await this.#o.store.queue.addHoldRule(rule);
    const sel = (await this.#select({ held: false })).filter((x) => holdRuleMatches(rule, x.m, x.r));
    await this.#o.store.queue.setHeld(sel.map((x) => x.r.id), true);
    return r;
  }

  async removeHoldRule(id: number): Promise<void> {
    await this.#o.store.queue.removeHoldRule(id);
  }

  async suppressions(account?: string): Promise<Suppression[]> {
    return this.#o.store.queue.listSuppressions(account);
  }

  async addSuppression(account: string, address: string, reason = 'added by hand'): Promise<void> {
    await this.#o.store.queue.addSuppression({ account, base: baseAddress(address), address, reason, manual: true });
  }

  async removeSuppression(account: string, address: string): Promise<void> {
    await this.#o.store.queue.removeSuppression(account, baseAddress(address));
  }
}

/** A fresh unique MAIL FROM id (for accounts with uniqueMailFromId): 16 base32 characters. */
export function newFromId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return [...randomBytes(16)].map((b) => alphabet[b & 31]).join('');
}
