// The consistency checker: database integrity, counts against the rows, UID and MODSEQ
// invariants (RFC 9051 §2.3.1.1, RFC 7162 §3.1), and message files against their rows.
// Reads one snapshot of each database, so it can run on a live data directory.
import { DatabaseSync } from 'node:sqlite';
import { readdir, stat, access } from 'node:fs/promises';
import { MessageFiles } from './files.ts';
import type { VerifyReport } from './types.ts';

interface Check {
  sql: string;
  problem: (row: Record<string, unknown>) => string;
  table?: string; // run only when the database has this table (older schema versions lack it until opened)
}

// Each query returns the rows that break one invariant.
const checks: Check[] = [
  { sql: "SELECT 1 FROM (SELECT count(*) AS n FROM account) WHERE n != 1", problem: () => 'account row missing or duplicated' },
  { sql: "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM mailboxes WHERE name = 'INBOX')", problem: () => 'INBOX missing' },
  {
    sql: `SELECT mb.name, mb.total, mb.unseen, mb.deleted, mb.size, c.total AS t, c.unseen AS u, c.deleted AS d, c.size AS s FROM mailboxes mb
          JOIN (SELECT mb2.id, count(m.uid) AS total, coalesce(sum((m.flags & 1) = 0), 0) AS unseen, coalesce(sum((m.flags & 8) != 0), 0) AS deleted, coalesce(sum(m.size), 0) AS size
                FROM mailboxes mb2 LEFT JOIN messages m ON m.mailbox_id = mb2.id GROUP BY mb2.id) c ON c.id = mb.id
          WHERE mb.total != c.total OR mb.unseen != c.unseen OR mb.deleted != c.deleted OR mb.size != c.size`,
    problem: (r) => `mailbox ${String(r['name'])}: counts total/unseen/deleted/size are ${r['total']}/${r['unseen']}/${r['deleted']}/${r['size']}, rows say ${r['t']}/${r['u']}/${r['d']}/${r['s']}`,
  },
  {
    sql: `SELECT mb.name, mb.uidnext, max(x.uid) AS maxuid FROM mailboxes mb JOIN (SELECT mailbox_id, uid FROM messages UNION ALL SELECT mailbox_id, uid FROM tombstones) x ON x.mailbox_id = mb.id
          GROUP BY mb.id HAVING max(x.uid) >= mb.uidnext`,
    problem: (r) => `mailbox ${String(r['name'])}: UIDNEXT ${r['uidnext']} is not above UID ${r['maxuid']}`, // RFC 9051 §2.3.1.1
  },
  {
    sql: `SELECT mb.name, mb.highest_modseq, max(x.modseq) AS m FROM mailboxes mb JOIN (SELECT mailbox_id, modseq FROM messages UNION ALL SELECT mailbox_id, modseq FROM tombstones) x ON x.mailbox_id = mb.id
          GROUP BY mb.id HAVING max(x.modseq) > mb.highest_modseq`,
    problem: (r) => `mailbox ${String(r['name'])}: HIGHESTMODSEQ ${r['highest_modseq']} is below MODSEQ ${r['m']}`, // RFC 7162 §3.1.1
  },
  {
    sql: `SELECT a.modseq, x.m FROM account a, (SELECT max(m) AS m FROM (SELECT max(modseq) AS m FROM messages UNION ALL SELECT max(modseq) FROM tombstones UNION ALL SELECT max(highest_modseq) FROM mailboxes)) x WHERE x.m > a.modseq`,
    problem: (r) => `account MODSEQ ${r['modseq']} is below a MODSEQ in use (${r['m']})`,
  },
  { sql: 'SELECT modseq, count(*) AS n FROM messages GROUP BY modseq HAVING n > 1', problem: (r) => `MODSEQ ${r['modseq']} is shared by ${r['n']} messages` },
  { sql: 'SELECT mailbox_id, uid, modseq FROM messages WHERE uid < 1 OR modseq < 1', problem: (r) => `message ${r['mailbox_id']}/${r['uid']}: UID or MODSEQ not positive` },
  {
    sql: 'SELECT mb.name, t.uid FROM tombstones t JOIN messages m USING (mailbox_id, uid) JOIN mailboxes mb ON mb.id = t.mailbox_id',
    problem: (r) => `mailbox ${String(r['name'])}: UID ${r['uid']} is both present and expunged`,
  },
  { sql: 'SELECT mailbox_id, uid FROM messages WHERE mailbox_id NOT IN (SELECT id FROM mailboxes)', problem: (r) => `message ${r['mailbox_id']}/${r['uid']} is in no mailbox` },
  { sql: 'SELECT name, uidvalidity FROM mailboxes WHERE uidvalidity < 1 OR uidvalidity > (SELECT uidvalidity FROM account)', problem: (r) => `mailbox ${String(r['name'])}: UIDVALIDITY ${r['uidvalidity']} was never handed out` },
  { sql: 'SELECT m.mailbox_id, m.uid, m.file FROM messages m LEFT JOIN files f ON f.id = m.file WHERE f.id IS NULL', problem: (r) => `message ${r['mailbox_id']}/${r['uid']}: no file record ${String(r['file'])}` },
  { sql: 'SELECT m.mailbox_id, m.uid, m.size, f.size AS fs FROM messages m JOIN files f ON f.id = m.file WHERE m.size != f.size', problem: (r) => `message ${r['mailbox_id']}/${r['uid']}: size ${r['size']}, file record says ${r['fs']}` },
  {
    sql: 'SELECT f.id, f.refs, count(m.uid) AS n FROM files f LEFT JOIN messages m ON m.file = f.id GROUP BY f.id HAVING f.refs != count(m.uid) OR count(m.uid) = 0',
    problem: (r) => `file ${String(r['id'])}: reference count ${r['refs']}, referenced by ${r['n']} messages`,
  },
  { sql: 'SELECT a.used, (SELECT coalesce(sum(size), 0) FROM messages) AS s FROM account a WHERE a.used != s', problem: (r) => `quota usage ${r['used']} differs from the message sizes ${r['s']}` },
  {
    sql: 'SELECT mailbox_id, count(*) AS n FROM metadata WHERE mailbox_id != 0 AND mailbox_id NOT IN (SELECT id FROM mailboxes) GROUP BY mailbox_id',
    problem: (r) => `${r['n']} METADATA entries of mailbox id ${r['mailbox_id']}, which does not exist`, // RFC 5464 §4.1: they go with their mailbox
    table: 'metadata',
  },
];

export interface AccountReport {
  messages: number;
  problems: string[];
  orphans: string[];
}

/** Checks one account directory (index.db + msg/). */
export async function verifyAccountDir(dir: string, name: string): Promise<AccountReport> {
  const report: AccountReport = { messages: 0, problems: [], orphans: [] };
  const problem = (p: string) => report.problems.push(`account ${name}: ${p}`);
  let db: DatabaseSync;
  try {
    await access(`${dir}/index.db`);
    db = new DatabaseSync(`${dir}/index.db`);
  } catch (e) {
    problem(`cannot open index.db: ${String(e)}`);
    return report;
  }
  let files: { id: string; size: number }[];
  try {
    db.exec('PRAGMA busy_timeout = 5000; BEGIN'); // one snapshot for all queries
    for (const r of db.prepare('PRAGMA quick_check').all() as { quick_check: string }[]) if (r.quick_check !== 'ok') problem(`database: ${r.quick_check}`);
    const tables = new Set((db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    for (const c of checks) if (!c.table || tables.has(c.table)) for (const r of db.prepare(c.sql).all()) problem(c.problem(r));
    report.messages = (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n;
    files = db.prepare('SELECT id, size FROM files').all() as { id: string; size: number }[];
    db.exec('COMMIT');
  } catch (e) {
    problem(`database: ${String(e)}`);
    return report;
  } finally {
    db.close();
  }
  const store = new MessageFiles(dir);
  await Promise.all(files.map(async (f) => {
    try {
      const st = await stat(store.path(f.id));
      if (st.size !== f.size) problem(`message file ${f.id}: ${st.size} octets, record says ${f.size}`);
    } catch {
      problem(`message file ${f.id} is missing`);
    }
  }));
  const known = new Set(files.map((f) => f.id));
  report.orphans = (await store.list()).filter((id) => !known.has(id)).map((id) => `account ${name}: message file ${id} has no record`);
  return report;
}

/** Checks one account of a data directory. */
export async function verifyAccount(dataDir: string, name: string): Promise<VerifyReport> {
  const r = await verifyAccountDir(`${dataDir}/accounts/${name}`, name);
  return { accounts: 1, messages: r.messages, problems: r.problems, orphans: r.orphans };
}

/** Checks every account and the auth database of a data directory (`mailcove verifydata`). */
export async function verifyData(dataDir: string): Promise<VerifyReport> {
  const report: VerifyReport = { accounts: 0, messages: 0, problems: [], orphans: [] };
  let names: string[] = [];
  try {
    names = (await readdir(`${dataDir}/accounts`)).filter((n) => !n.startsWith('.')).sort();
  } catch (e) {
    report.problems.push(`cannot list accounts: ${String(e)}`);
  }
  for (const name of names) {
    const r = await verifyAccountDir(`${dataDir}/accounts/${name}`, name);
    report.accounts++;
    report.messages += r.messages;
    report.problems.push(...r.problems);
    report.orphans.push(...r.orphans);
  }
  try {
    await access(`${dataDir}/auth.db`);
    const db = new DatabaseSync(`${dataDir}/auth.db`);
    try {
      for (const r of db.prepare('PRAGMA quick_check').all() as { quick_check: string }[]) if (r.quick_check !== 'ok') report.problems.push(`auth.db: ${r.quick_check}`);
    } finally {
      db.close();
    }
  } catch (e) {
    report.problems.push(`auth.db: ${String(e)}`);
  }
  return report;
}
