// The outbound queue's durable part: <dataDir>/queue/queue.db and message files under
// <dataDir>/queue/msg/. A message is added whole (file fsynced, then one group-commit
// transaction with its recipients), so SMTP can answer 250 right after add() resolves.
// Scheduling, attempts and DSNs are the queue module's (src/queue), built on this table.
// Also keeps the per-account submission history behind the submission limits.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { mkdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Checkpointer } from './checkpointer.ts';
import { openCommitted, type GroupCommit } from './groupcommit.ts';
import { MessageFiles } from './files.ts';
import { StoreError } from './errors.ts';
import type { AttemptOutcome, RetiredQuery, DeliveryAttempt, HoldRule, QueueInput, QueueStore, QueuedMessage, QueuedRecipient, RetiredRecipient, SubmissionCounts, Suppression, TlsResult, TlsResultCount } from './types.ts';

const day = 24 * 60 * 60 * 1000;

interface MessageRow {
  id: number; account: string; mail_from: string; smtputf8: number; body: string; envid: string | null; ret: string | null;
  require_tls: number | null; file: string; size: number; received: number; extra: string; fromid: string | null;
}
interface RecipientRow {
  id: number; message_id: number; address: string; domain: string; notify: string | null; orcpt: string | null; next_attempt: number; attempts: number; last_error: string | null;
  held: number; last_attempt: number | null; delayed_dsn: number;
}
interface RetiredRow {
  id: number; message_id: number; account: string; mail_from: string; fromid: string | null; address: string; domain: string; size: number; received: number;
  retired: number; keep_until: number; success: number; last_error: string | null; data: string;
}
const ids = (xs: readonly number[]) => JSON.stringify(xs); // bound as one parameter, read with json_each

export class SqliteQueue implements QueueStore {
  readonly #db: DatabaseSync;
  readonly #commit: GroupCommit;
  readonly #files: MessageFiles;
  readonly #path: string;
  readonly #checkpointer: Checkpointer;

  private constructor(db: DatabaseSync, commit: GroupCommit, files: MessageFiles, path: string, checkpointer: Checkpointer) {
    this.#db = db;
    this.#commit = commit;
    this.#files = files;
    this.#path = path;
    this.#checkpointer = checkpointer;
  }

  static async open(dataDir: string, checkpointer: Checkpointer): Promise<SqliteQueue> {
    const dir = `${dataDir}/queue`;
    await mkdir(dir, { recursive: true });
    const path = `${dir}/queue.db`;
    const { db, commit } = await openCommitted(path, 'queue', checkpointer);
    // Case-insensitive substring as JavaScript compares (SQLite's lower() folds ASCII only; addresses may be UTF-8, RFC 6531).
    db.function('contains_ci', { deterministic: true }, (s: unknown, part: unknown) => (String(s).toLowerCase().includes(String(part).toLowerCase()) ? 1 : 0));
    return new SqliteQueue(db, commit, new MessageFiles(dir), path, checkpointer);
  }

  readonly #statements = new Map<string, StatementSync>();
  /** A prepared statement, prepared once per SQL text (preparing costs more than running the small ones). */
  #stmt(sql: string): StatementSync {
    let st = this.#statements.get(sql);
    if (!st) this.#statements.set(sql, (st = this.#db.prepare(sql)));
    return st;
  }

  readonly #watchers = new Set<() => void>();
  watch(fn: () => void): () => void {
    this.#watchers.add(fn);
    return () => this.#watchers.delete(fn);
  }

  async add(input: QueueInput & { fromid?: string; held?: boolean }): Promise<QueuedMessage> {
    return this.#add(input, { spoolPath: input.spoolPath });
  }

  async addData(input: Omit<QueueInput, 'spoolPath'> & { data: Buffer }): Promise<QueuedMessage> {
    return this.#add(input, { data: input.data });
  }

  async #add(input: Omit<QueueInput, 'spoolPath'> & { fromid?: string; held?: boolean }, source: { spoolPath: string } | { data: Buffer }): Promise<QueuedMessage> {
    if (input.recipients.length === 0) throw new StoreError('CANNOT', 'a queued message needs recipients');
    const file = await this.#files.place(source);
    const received = Date.now();
    const id = await this.#commit.write(
      () => {
        const m = this.#db
          .prepare('INSERT INTO messages (account, mail_from, smtputf8, body, envid, ret, require_tls, file, size, received, extra, fromid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(input.account, input.mailFrom, input.smtputf8 ? 1 : 0, input.body, input.envid ?? null, input.ret ?? null, input.requireTLS === null ? null : input.requireTLS ? 1 : 0, file.id, file.size, received, JSON.stringify(input.extra), input.fromid ?? null);
        const insert = this.#stmt('INSERT INTO recipients (message_id, address, domain, notify, orcpt, next_attempt, held) VALUES (?, ?, ?, ?, ?, ?, ?)');
        for (const r of input.recipients) insert.run(m.lastInsertRowid, r.address, r.domain, r.notify ?? null, r.orcpt ?? null, input.nextAttempt.getTime(), input.held ? 1 : 0);
        if (input.account !== '' && input.mailFrom !== '') this.#recordSubmission(input.account, input.recipients.map((r) => r.address), received);
        return Number(m.lastInsertRowid);
      },
      { dirs: file.dirs, ready: file.synced },
    );
    const message = await this.get(id);
    if (!message) throw new StoreError('IO', 'queued message vanished');
    for (const w of this.#watchers) w();
    return message;
  }

  #recordSubmission(account: string, addresses: readonly string[], now: number): void {
    this.#stmt('INSERT INTO submissions (account, time, recipients) VALUES (?, ?, ?)').run(account, now, addresses.length);
    const seen = this.#stmt('INSERT INTO recipient_history (account, address, first_sent) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
    for (const a of addresses) seen.run(account, a.toLowerCase(), now);
    this.#stmt('DELETE FROM submissions WHERE account = ? AND time < ?').run(account, now - 7 * day); // only the last day counts; a week is kept for the admin
  }

  async submissionCounts(account: string, recipients: readonly string[], now = Date.now()): Promise<SubmissionCounts> {
    const since = now - day;
    const messages = (this.#stmt('SELECT count(*) AS n FROM submissions WHERE account = ? AND time > ?').get(account, since) as { n: number }).n;
    const firstTimeRecipients = (this.#stmt('SELECT count(*) AS n FROM recipient_history WHERE account = ? AND first_sent > ?').get(account, since) as { n: number }).n;
    const known = this.#stmt('SELECT 1 AS x FROM recipient_history WHERE account = ? AND address = ?');
    const newRecipients = [...new Set(recipients.map((r) => r.toLowerCase()))].filter((r) => known.get(account, r) === undefined);
    return { messages, firstTimeRecipients, newRecipients };
  }

  async get(id: number): Promise<QueuedMessage | undefined> {
    const m = this.#stmt('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined;
    if (!m) return undefined;
    const rs = this.#stmt('SELECT * FROM recipients WHERE message_id = ? ORDER BY id').all(id) as unknown as RecipientRow[];
    return toMessage(m, rs);
  }

  async list(): Promise<QueuedMessage[]> {
    const ms = this.#stmt('SELECT * FROM messages ORDER BY id').all() as unknown as MessageRow[];
    const rs = this.#stmt('SELECT * FROM recipients ORDER BY id').all() as unknown as RecipientRow[];
    const byMessage = Map.groupBy(rs, (r) => r.message_id);
    return ms.map((m) => toMessage(m, byMessage.get(m.id) ?? []));
  }

  async openMessage(id: number): Promise<Readable> {
    const m = this.#stmt('SELECT file FROM messages WHERE id = ?').get(id) as { file: string } | undefined;
    if (!m) throw new StoreError('NONEXISTENT', `no queued message ${id}`);
    return this.#files.open(m.file);
  }

  async dueDomains(now: number, limit: number, exclude: readonly string[] = []): Promise<string[]> {
    const rows = this.#stmt('SELECT domain, min(next_attempt) AS t FROM recipients WHERE held != 1 AND next_attempt <= ? AND domain NOT IN (SELECT value FROM json_each(?)) GROUP BY domain ORDER BY t LIMIT ?').all(now, JSON.stringify(exclude), limit) as Array<{ domain: string }>;
    return rows.map((r) => r.domain);
  }

  async due(now: number, limit: number, domain?: string): Promise<QueuedMessage[]> {
    const rs = (domain === undefined
      ? this.#stmt('SELECT * FROM recipients WHERE held != 1 AND next_attempt <= ? ORDER BY next_attempt, id LIMIT ?').all(now, limit)
      : this.#stmt('SELECT * FROM recipients WHERE domain = ? AND held != 1 AND next_attempt <= ? ORDER BY next_attempt, id LIMIT ?').all(domain, now, limit)) as unknown as RecipientRow[];
    const byMessage = Map.groupBy(rs, (r) => r.message_id);
    const get = this.#stmt('SELECT * FROM messages WHERE id = ?');
    const out: QueuedMessage[] = [];
    for (const [id, list] of byMessage) {
      const m = get.get(id) as MessageRow | undefined;
      if (m) out.push(toMessage(m, list));
    }
    return out;
  }

  async nextDue(): Promise<number | undefined> {
    const r = this.#stmt('SELECT min(next_attempt) AS t FROM recipients WHERE held != 1').get() as { t: number | null };
    return r.t ?? undefined;
  }

  async counts(): Promise<{ queued: number; held: number }> {
    const r = this.#stmt('SELECT count(*) AS queued, coalesce(sum(held = 1), 0) AS held FROM recipients').get() as { queued: number; held: number };
    return { queued: Number(r.queued), held: Number(r.held) };
  }

  async recordAttempt(recipientIds: readonly number[], attempt: DeliveryAttempt, outcome: AttemptOutcome): Promise<void> {
    const removed = await this.#commit.write(() => {
      const time = Date.parse(attempt.time);
      const log = this.#stmt('INSERT INTO attempts (recipient_id, time, data) VALUES (?, ?, ?)');
      for (const id of recipientIds) log.run(id, time, JSON.stringify(attempt));
      const error = attempt.success ? null : attempt.error ?? 'failed';
      if (outcome.kind === 'retry') {
        this.#stmt(`UPDATE recipients SET attempts = attempts + 1, last_attempt = ?, last_error = ?, next_attempt = ?,
          delayed_dsn = max(delayed_dsn, ?) WHERE id IN (SELECT value FROM json_each(?))`).run(time, error, outcome.nextAttempt.getTime(), outcome.delayedDsnSent ? 1 : 0, ids(recipientIds));
        return [];
      }
      const rows = this.#stmt('SELECT r.*, m.account, m.mail_from, m.fromid, m.size, m.received, m.envid FROM recipients r JOIN messages m ON m.id = r.message_id WHERE r.id IN (SELECT value FROM json_each(?))').all(ids(recipientIds)) as unknown as Array<RecipientRow & { account: string; mail_from: string; fromid: string | null; size: number; received: number; envid: string | null }>;
      const attempts = this.#stmt('SELECT data FROM attempts WHERE recipient_id = ? ORDER BY rowid');
      const insert = this.#stmt('INSERT OR REPLACE INTO retired (id, message_id, account, mail_from, fromid, address, domain, size, received, retired, keep_until, success, last_error, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
      for (const r of rows) {
        const list = (attempts.all(r.id) as Array<{ data: string }>).map((a) => JSON.parse(a.data) as DeliveryAttempt);
        const data = { envid: r.envid ?? undefined, notify: r.notify ?? undefined, orcpt: r.orcpt ?? undefined, attempts: list };
        insert.run(r.id, r.message_id, r.account, r.mail_from, r.fromid, r.address, r.domain, r.size, r.received, time, outcome.keepUntil.getTime(), outcome.success ? 1 : 0, outcome.success ? null : error, JSON.stringify(data));
      }
      for (const x of outcome.suppress ?? []) this.#insertSuppression(x);
      return this.#deleteRecipients(recipientIds);
    });
    await this.#files.remove(removed);
  }

  /** Deletes recipient rows and their attempts, and the messages left without recipients; returns those messages' file ids. */
  #deleteRecipients(recipientIds: readonly number[]): string[] {
    const messageIds = (this.#stmt('SELECT DISTINCT message_id AS id FROM recipients WHERE id IN (SELECT value FROM json_each(?))').all(ids(recipientIds)) as Array<{ id: number }>).map((r) => r.id);
    this.#stmt('DELETE FROM attempts WHERE recipient_id IN (SELECT value FROM json_each(?))').run(ids(recipientIds));
    this.#stmt('DELETE FROM recipients WHERE id IN (SELECT value FROM json_each(?))').run(ids(recipientIds));
    const files: string[] = [];
    for (const id of messageIds) {
      const left = this.#stmt('SELECT 1 AS x FROM recipients WHERE message_id = ? LIMIT 1').get(id);
      if (left) continue;
      const m = this.#stmt('SELECT file FROM messages WHERE id = ?').get(id) as { file: string } | undefined;
      this.#stmt('DELETE FROM messages WHERE id = ?').run(id);
      if (m) files.push(m.file);
    }
    return files; // removed after the commit: a crash before it leaves rows pointing at existing files
  }

  async attempts(recipientId: number): Promise<DeliveryAttempt[]> {
    return (this.#stmt('SELECT data FROM attempts WHERE recipient_id = ? ORDER BY rowid').all(recipientId) as Array<{ data: string }>).map((a) => JSON.parse(a.data) as DeliveryAttempt);
  }

  async setHeld(recipientIds: readonly number[], held: boolean): Promise<void> {
    // 1 held; 2 released or checked against the hold rules (they are not applied again); 0 not yet checked.
    await this.#commit.write(() => this.#stmt('UPDATE recipients SET held = ? WHERE id IN (SELECT value FROM json_each(?))').run(held ? 1 : 2, ids(recipientIds)));
  }

  async setNextAttempt(recipientIds: readonly number[], at: Date): Promise<void> {
    await this.#commit.write(() => this.#stmt('UPDATE recipients SET next_attempt = ? WHERE id IN (SELECT value FROM json_each(?))').run(at.getTime(), ids(recipientIds)));
  }

  async remove(recipientIds: readonly number[]): Promise<void> {
    const files = await this.#commit.write(() => this.#deleteRecipients(recipientIds));
    await this.#files.remove(files);
  }

  async retiredPage(f: RetiredQuery, page?: { offset: number; limit: number }): Promise<{ total: number; items: RetiredRecipient[] }> {
    const where: string[] = [];
    const args: Array<string | number> = [];
    const add = (sql: string, ...v: Array<string | number>) => {
      where.push(sql);
      args.push(...v);
    };
    if (f.ids !== undefined) add('id IN (SELECT value FROM json_each(?))', ids(f.ids));
    if (f.account !== undefined) add('account = ?', f.account);
    if (f.from !== undefined) add('contains_ci(mail_from, ?)', f.from);
    if (f.to !== undefined) add('contains_ci(address, ?)', f.to);
    if (f.success !== undefined) add('success = ?', f.success ? 1 : 0);
    if (f.retiredAfter !== undefined) add('retired > ?', f.retiredAfter);
    if (f.fromid !== undefined) add('fromid = ?', f.fromid);
    const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = Number((this.#db.prepare(`SELECT count(*) AS n FROM retired ${cond}`).get(...args) as { n: number }).n);
    const limit = page ? ` LIMIT ${Math.trunc(page.limit)} OFFSET ${Math.trunc(page.offset)}` : '';
    const rows = this.#db.prepare(`SELECT * FROM retired ${cond} ORDER BY retired DESC, id DESC${limit}`).all(...args) as unknown as RetiredRow[];
    return { total, items: rows.map(toRetired) };
  }

  async listRetired(): Promise<RetiredRecipient[]> {
    return (this.#stmt('SELECT * FROM retired ORDER BY retired, id').all() as unknown as RetiredRow[]).map(toRetired);
  }

  async retiredByFromId(fromid: string): Promise<RetiredRecipient[]> {
    return (this.#stmt('SELECT * FROM retired WHERE fromid = ? ORDER BY id').all(fromid) as unknown as RetiredRow[]).map(toRetired);
  }

  async retiredFor(account: string, address: string, limit: number): Promise<RetiredRecipient[]> {
    return (this.#stmt('SELECT * FROM retired WHERE account = ? AND address = ? COLLATE NOCASE ORDER BY retired DESC, id DESC LIMIT ?').all(account, address, limit) as unknown as RetiredRow[]).map(toRetired);
  }

  async purgeRetired(now: number): Promise<number> {
    return this.#commit.write(() => Number(this.#stmt('DELETE FROM retired WHERE keep_until <= ?').run(now).changes));
  }

  async listHoldRules(): Promise<HoldRule[]> {
    const rows = this.#stmt('SELECT * FROM hold_rules ORDER BY id').all() as Array<{ id: number; account: string; sender_domain: string; recipient_domain: string; created: number }>;
    return rows.map((r) => ({ id: r.id, account: r.account, senderDomain: r.sender_domain, recipientDomain: r.recipient_domain, created: new Date(r.created) }));
  }

  async addHoldRule(rule: Omit<HoldRule, 'id' | 'created'>): Promise<HoldRule> {
    const created = Date.now();
    const id = await this.#commit.write(() => Number(this.#stmt('INSERT INTO hold_rules (account, sender_domain, recipient_domain, created) VALUES (?, ?, ?, ?)').run(rule.account, rule.senderDomain, rule.recipientDomain, created).lastInsertRowid));
    return { id, ...rule, created: new Date(created) };
  }

  async removeHoldRule(id: number): Promise<void> {
    const n = await this.#commit.write(() => Number(this.#stmt('DELETE FROM hold_rules WHERE id = ?').run(id).changes));
    if (n === 0) throw new StoreError('NONEXISTENT', `no hold rule ${id}`);
  }

  async listSuppressions(account?: string): Promise<Suppression[]> {
    const rows = (account === undefined ? this.#stmt('SELECT * FROM suppressions ORDER BY account, base').all() : this.#stmt('SELECT * FROM suppressions WHERE account = ? ORDER BY base').all(account)) as unknown as SuppressionRow[];
    return rows.map(toSuppression);
  }

  async addSuppression(x: Omit<Suppression, 'created'>): Promise<void> {
    await this.#commit.write(() => this.#insertSuppression(x));
  }

  #insertSuppression(x: Omit<Suppression, 'created'>): void {
    this.#stmt('INSERT OR REPLACE INTO suppressions (account, base, address, reason, manual, created) VALUES (?, ?, ?, ?, ?, ?)').run(x.account, x.base, x.address, x.reason, x.manual ? 1 : 0, Date.now());
  }

  async removeSuppression(account: string, base: string): Promise<void> {
    const n = await this.#commit.write(() => Number(this.#stmt('DELETE FROM suppressions WHERE account = ? AND base = ?').run(account, base).changes));
    if (n === 0) throw new StoreError('NONEXISTENT', `${base} is not suppressed for ${account}`);
  }

  async getSuppression(account: string, base: string): Promise<Suppression | undefined> {
    const r = this.#stmt('SELECT * FROM suppressions WHERE account = ? AND base = ?').get(account, base) as SuppressionRow | undefined;
    return r ? toSuppression(r) : undefined;
  }

  async getMtaStsPolicy(domain: string): Promise<unknown> {
    const r = this.#stmt('SELECT data FROM mtasts WHERE domain = ?').get(domain) as { data: string } | undefined;
    return r ? (JSON.parse(r.data) as unknown) : undefined;
  }

  async putMtaStsPolicy(domain: string, data: unknown): Promise<void> {
    await this.#commit.write(() => this.#stmt('INSERT OR REPLACE INTO mtasts (domain, data) VALUES (?, ?)').run(domain, JSON.stringify(data)));
  }

  async listMtaStsPolicies(): Promise<Array<{ domain: string; data: unknown }>> {
    return (this.#stmt('SELECT domain, data FROM mtasts ORDER BY domain').all() as Array<{ domain: string; data: string }>).map((r) => ({ domain: r.domain, data: JSON.parse(r.data) as unknown }));
  }

  async deleteMtaStsPolicy(domain: string): Promise<void> {
    await this.#commit.write(() => this.#stmt('DELETE FROM mtasts WHERE domain = ?').run(domain));
  }

  async recordTlsResults(results: readonly TlsResult[], now = new Date()): Promise<void> {
    if (results.length === 0) return;
    const day = now.toISOString().slice(0, 10); // RFC 8460 §4: reports cover UTC days
    await this.#commit.write(() => {
      const upsert = this.#stmt(`INSERT INTO tls_results (day, policy_domain, mx_host, policy, result, count, detail) VALUES (?, ?, ?, ?, ?, 1, ?)
        ON CONFLICT (day, policy_domain, mx_host, policy, result) DO UPDATE SET count = count + 1, detail = excluded.detail`);
      for (const r of results) upsert.run(day, r.policyDomain, r.mxHost, r.policy, r.result, r.detail ?? '');
    });
  }

  async tlsResults(sinceDay: string): Promise<TlsResultCount[]> {
    const rows = this.#stmt('SELECT * FROM tls_results WHERE day >= ? ORDER BY day, policy_domain, mx_host').all(sinceDay) as Array<{ day: string; policy_domain: string; mx_host: string; policy: TlsResult['policy']; result: string; count: number; detail: string }>;
    return rows.map((r) => ({ day: r.day, policyDomain: r.policy_domain, mxHost: r.mx_host, policy: r.policy, result: r.result, count: r.count, ...(r.detail ? { detail: r.detail } : {}) }));
  }

  async close(): Promise<void> {
    await this.#commit.close();
    await this.#checkpointer.release(this.#path);
    this.#db.close();
  }
}

interface SuppressionRow { account: string; base: string; address: string; reason: string; manual: number; created: number }
function toSuppression(r: SuppressionRow): Suppression {
  return { account: r.account, base: r.base, address: r.address, reason: r.reason, manual: r.manual === 1, created: new Date(r.created) };
}

function toRetired(r: RetiredRow): RetiredRecipient {
  const data = JSON.parse(r.data) as { envid?: string; notify?: string; orcpt?: string; attempts: DeliveryAttempt[] };
  return {
    id: r.id, messageId: r.message_id, account: r.account, mailFrom: r.mail_from, ...(r.fromid !== null ? { fromid: r.fromid } : {}), address: r.address, domain: r.domain,
    size: r.size, received: new Date(r.received), retired: new Date(r.retired), keepUntil: new Date(r.keep_until), success: r.success === 1,
    ...(r.last_error !== null ? { lastError: r.last_error } : {}), ...(data.envid !== undefined ? { envid: data.envid } : {}),
    ...(data.notify !== undefined ? { notify: data.notify } : {}), ...(data.orcpt !== undefined ? { orcpt: data.orcpt } : {}), attempts: data.attempts,
  };
}

function toMessage(m: MessageRow, rs: readonly RecipientRow[]): QueuedMessage {
  const recipients: QueuedRecipient[] = rs.map((r) => ({
    id: r.id, address: r.address, domain: r.domain, nextAttempt: new Date(r.next_attempt), attempts: r.attempts,
    held: r.held === 1, holdChecked: r.held === 2, delayedDsnSent: r.delayed_dsn === 1, ...(r.last_attempt !== null ? { lastAttempt: new Date(r.last_attempt) } : {}),
    ...(r.notify !== null ? { notify: r.notify } : {}), ...(r.orcpt !== null ? { orcpt: r.orcpt } : {}), ...(r.last_error !== null ? { lastError: r.last_error } : {}),
  }));
  return {
    id: m.id, account: m.account, mailFrom: m.mail_from, smtputf8: m.smtputf8 === 1, body: m.body as QueuedMessage['body'],
    ...(m.envid !== null ? { envid: m.envid } : {}), ...(m.ret !== null ? { ret: m.ret as 'FULL' | 'HDRS' } : {}),
    requireTLS: m.require_tls === null ? null : m.require_tls === 1, size: m.size, received: new Date(m.received), extra: JSON.parse(m.extra) as Record<string, string>,
    ...(m.fromid !== null ? { fromid: m.fromid } : {}), recipients,
  };
}
