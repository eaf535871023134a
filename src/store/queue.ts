// The outbound queue's durable part: <dataDir>/queue/queue.db and message files under
// <dataDir>/queue/msg/. A message is added whole (file fsynced, then one group-commit
// transaction with its recipients), so SMTP can answer 250 right after add() resolves.
// Scheduling, attempts and DSNs are the queue module's (src/queue), built on this table.
// Also keeps the per-account submission history behind the submission limits.
import type { DatabaseSync } from 'node:sqlite';
import { mkdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Checkpointer } from './checkpointer.ts';
import { openCommitted, type GroupCommit } from './groupcommit.ts';
import { MessageFiles } from './files.ts';
import { StoreError } from './errors.ts';
import type { QueueInput, QueueStore, QueuedMessage, QueuedRecipient, SubmissionCounts } from './types.ts';

const day = 24 * 60 * 60 * 1000;

interface MessageRow {
  id: number; account: string; mail_from: string; smtputf8: number; body: string; envid: string | null; ret: string | null;
  require_tls: number | null; file: string; size: number; received: number; extra: string;
}
interface RecipientRow { id: number; message_id: number; address: string; domain: string; notify: string | null; orcpt: string | null; next_attempt: number; attempts: number; last_error: string | null }

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
    return new SqliteQueue(db, commit, new MessageFiles(dir), path, checkpointer);
  }

  async add(input: QueueInput): Promise<QueuedMessage> {
    if (input.recipients.length === 0) throw new StoreError('CANNOT', 'a queued message needs recipients');
    const file = await this.#files.place({ spoolPath: input.spoolPath });
    const received = Date.now();
    const id = await this.#commit.write(
      () => {
        const m = this.#db
          .prepare('INSERT INTO messages (account, mail_from, smtputf8, body, envid, ret, require_tls, file, size, received, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(input.account, input.mailFrom, input.smtputf8 ? 1 : 0, input.body, input.envid ?? null, input.ret ?? null, input.requireTLS === null ? null : input.requireTLS ? 1 : 0, file.id, file.size, received, JSON.stringify(input.extra));
        const insert = this.#db.prepare('INSERT INTO recipients (message_id, address, domain, notify, orcpt, next_attempt) VALUES (?, ?, ?, ?, ?, ?)');
        for (const r of input.recipients) insert.run(m.lastInsertRowid, r.address, r.domain, r.notify ?? null, r.orcpt ?? null, input.nextAttempt.getTime());
        if (input.account !== '') this.#recordSubmission(input.account, input.recipients.map((r) => r.address), received);
        return Number(m.lastInsertRowid);
      },
      { dirs: file.dirs, ready: file.synced },
    );
    const message = await this.get(id);
    if (!message) throw new StoreError('IO', 'queued message vanished');
    return message;
  }

  #recordSubmission(account: string, addresses: readonly string[], now: number): void {
    this.#db.prepare('INSERT INTO submissions (account, time, recipients) VALUES (?, ?, ?)').run(account, now, addresses.length);
    const seen = this.#db.prepare('INSERT INTO recipient_history (account, address, first_sent) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
    for (const a of addresses) seen.run(account, a.toLowerCase(), now);
    this.#db.prepare('DELETE FROM submissions WHERE account = ? AND time < ?').run(account, now - 7 * day); // only the last day counts; a week is kept for the admin
  }

  async submissionCounts(account: string, recipients: readonly string[], now = Date.now()): Promise<SubmissionCounts> {
    const since = now - day;
    const messages = (this.#db.prepare('SELECT count(*) AS n FROM submissions WHERE account = ? AND time > ?').get(account, since) as { n: number }).n;
    const firstTimeRecipients = (this.#db.prepare('SELECT count(*) AS n FROM recipient_history WHERE account = ? AND first_sent > ?').get(account, since) as { n: number }).n;
    const known = this.#db.prepare('SELECT 1 AS x FROM recipient_history WHERE account = ? AND address = ?');
    const newRecipients = [...new Set(recipients.map((r) => r.toLowerCase()))].filter((r) => known.get(account, r) === undefined);
    return { messages, firstTimeRecipients, newRecipients };
  }

  async get(id: number): Promise<QueuedMessage | undefined> {
    const m = this.#db.prepare('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined;
    if (!m) return undefined;
    const rs = this.#db.prepare('SELECT * FROM recipients WHERE message_id = ? ORDER BY id').all(id) as unknown as RecipientRow[];
    return toMessage(m, rs);
  }

  async list(): Promise<QueuedMessage[]> {
    const ms = this.#db.prepare('SELECT * FROM messages ORDER BY id').all() as unknown as MessageRow[];
    const rs = this.#db.prepare('SELECT * FROM recipients ORDER BY id').all() as unknown as RecipientRow[];
    const byMessage = Map.groupBy(rs, (r) => r.message_id);
    return ms.map((m) => toMessage(m, byMessage.get(m.id) ?? []));
  }

  async openMessage(id: number): Promise<Readable> {
    const m = this.#db.prepare('SELECT file FROM messages WHERE id = ?').get(id) as { file: string } | undefined;
    if (!m) throw new StoreError('NONEXISTENT', `no queued message ${id}`);
    return this.#files.open(m.file);
  }

  async close(): Promise<void> {
    await this.#commit.close();
    await this.#checkpointer.release(this.#path);
    this.#db.close();
  }
}

function toMessage(m: MessageRow, rs: readonly RecipientRow[]): QueuedMessage {
  const recipients: QueuedRecipient[] = rs.map((r) => ({
    id: r.id, address: r.address, domain: r.domain, nextAttempt: new Date(r.next_attempt), attempts: r.attempts,
    ...(r.notify !== null ? { notify: r.notify } : {}), ...(r.orcpt !== null ? { orcpt: r.orcpt } : {}), ...(r.last_error !== null ? { lastError: r.last_error } : {}),
  }));
  return {
    id: m.id, account: m.account, mailFrom: m.mail_from, smtputf8: m.smtputf8 === 1, body: m.body as QueuedMessage['body'],
    ...(m.envid !== null ? { envid: m.envid } : {}), ...(m.ret !== null ? { ret: m.ret as 'FULL' | 'HDRS' } : {}),
    requireTLS: m.require_tls === null ? null : m.require_tls === 1, size: m.size, received: new Date(m.received), extra: JSON.parse(m.extra) as Record<string, string>, recipients,
  };
}
