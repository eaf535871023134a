// SQLite schema of an account database and of the global auth and queue databases, with
// the migrations that bring older databases up to date when they are opened. Counts are
// kept by triggers, so that no code path can change messages without changing the counts
// in the same transaction.
import { DatabaseSync } from 'node:sqlite';
import { StoreError } from './errors.ts';
import { tlsPublicKeysSchema } from './tlspubkeys.ts';
import { webSessionsSchema } from './websessions.ts';
import { loginAttemptsSchema } from './loginattempts.ts';

const accountSchema = `
CREATE TABLE account (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  modseq INTEGER NOT NULL,      -- RFC 7162 §3.1: last MODSEQ handed out in this account
  uidvalidity INTEGER NOT NULL, -- last UIDVALIDITY handed out; RFC 9051 §2.3.1.1: never reused
  quota INTEGER,                -- octets, NULL for none
  used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE mailboxes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  special_use TEXT,
  uidvalidity INTEGER NOT NULL UNIQUE,
  uidnext INTEGER NOT NULL,
  highest_modseq INTEGER NOT NULL,
  total INTEGER NOT NULL DEFAULT 0,
  unseen INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0,
  size INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE subscriptions (name TEXT PRIMARY KEY) WITHOUT ROWID; -- RFC 9051 §6.3.7: may name absent mailboxes
CREATE TABLE files (id TEXT PRIMARY KEY, size INTEGER NOT NULL, mime TEXT NOT NULL, refs INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE messages (
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  flags INTEGER NOT NULL,        -- system flag bits (flags.ts)
  keywords TEXT NOT NULL,        -- JSON array of canonical keywords, sorted
  internal_date INTEGER NOT NULL, -- ms since epoch
  save_date INTEGER NOT NULL,    -- ms since epoch
  file TEXT NOT NULL REFERENCES files(id),
  size INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);
CREATE INDEX messages_file ON messages (file);
CREATE TABLE tombstones (mailbox_id INTEGER NOT NULL, uid INTEGER NOT NULL, modseq INTEGER NOT NULL, PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID; -- RFC 7162 §3.2.10 VANISHED
CREATE INDEX tombstones_modseq ON tombstones (mailbox_id, modseq);
INSERT INTO account (id, modseq, uidvalidity, quota, used) VALUES (1, 0, 0, NULL, 0);
CREATE TABLE keywords (folded TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID; -- RFC 9051 §2.3.2: keywords compare case-insensitively

CREATE TRIGGER messages_insert AFTER INSERT ON messages BEGIN
  UPDATE mailboxes SET total = total + 1, unseen = unseen + ((NEW.flags & 1) = 0), deleted = deleted + ((NEW.flags & 8) != 0),
    size = size + NEW.size, highest_modseq = max(highest_modseq, NEW.modseq) WHERE id = NEW.mailbox_id;
  UPDATE account SET used = used + NEW.size;
  UPDATE files SET refs = refs + 1 WHERE id = NEW.file;
END;
CREATE TRIGGER messages_delete AFTER DELETE ON messages BEGIN
  UPDATE mailboxes SET total = total - 1, unseen = unseen - ((OLD.flags & 1) = 0), deleted = deleted - ((OLD.flags & 8) != 0),
    size = size - OLD.size WHERE id = OLD.mailbox_id;
  UPDATE account SET used = used - OLD.size;
  UPDATE files SET refs = refs - 1 WHERE id = OLD.file;
END;
CREATE TRIGGER messages_update AFTER UPDATE OF flags, mailbox_id, modseq ON messages BEGIN
  UPDATE mailboxes SET total = total - 1, unseen = unseen - ((OLD.flags & 1) = 0), deleted = deleted - ((OLD.flags & 8) != 0),
    size = size - OLD.size WHERE id = OLD.mailbox_id;
  UPDATE mailboxes SET total = total + 1, unseen = unseen + ((NEW.flags & 1) = 0), deleted = deleted + ((NEW.flags & 8) != 0),
    size = size + NEW.size, highest_modseq = max(highest_modseq, NEW.modseq) WHERE id = NEW.mailbox_id;
END;
CREATE TRIGGER tombstones_insert AFTER INSERT ON tombstones BEGIN
  UPDATE mailboxes SET highest_modseq = max(highest_modseq, NEW.modseq) WHERE id = NEW.mailbox_id; -- RFC 7162 §3.1.1: expunges raise HIGHESTMODSEQ
END;
`;

const authSchema = `
CREATE TABLE credentials (account TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID;
`;

// The outbound queue (queue.ts) and the submission history behind the per-account limits.
const queueSchema = `
CREATE TABLE messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL,          -- sending account; '' for mail not from a local account
  mail_from TEXT NOT NULL,        -- RFC 5321 reverse-path, '' for the null path
  smtputf8 INTEGER NOT NULL,      -- RFC 6531: the message needs SMTPUTF8 on delivery
  body TEXT NOT NULL,             -- RFC 6152/3030: 7BIT, 8BITMIME or BINARYMIME
  envid TEXT,                     -- RFC 3461 §4.4
  ret TEXT,                       -- RFC 3461 §4.3: FULL or HDRS
  require_tls INTEGER,            -- RFC 8689: 1 REQUIRETLS, 0 'TLS-Required: No', NULL neither
  file TEXT NOT NULL,             -- message file id
  size INTEGER NOT NULL,
  received INTEGER NOT NULL,      -- ms since epoch
  extra TEXT NOT NULL             -- JSON: X-Mailcove-Extra-* values for webhooks
);
CREATE TABLE recipients (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id INTEGER NOT NULL REFERENCES messages(id),
  address TEXT NOT NULL,
  domain TEXT NOT NULL,           -- ASCII (A-label) domain: the delivery unit
  notify TEXT,                    -- RFC 3461 §4.1: NEVER or a comma list
  orcpt TEXT,                     -- RFC 3461 §4.2: addr-type;address
  next_attempt INTEGER NOT NULL,  -- ms since epoch; RFC 4865 FUTURERELEASE sets the first
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);
CREATE INDEX recipients_next ON recipients (next_attempt);
CREATE INDEX recipients_message ON recipients (message_id);
CREATE TABLE submissions (account TEXT NOT NULL, time INTEGER NOT NULL, recipients INTEGER NOT NULL);
CREATE INDEX submissions_account ON submissions (account, time);
CREATE TABLE recipient_history (account TEXT NOT NULL, address TEXT NOT NULL, first_sent INTEGER NOT NULL, PRIMARY KEY (account, address)) WITHOUT ROWID;
`;

// RFC 5464 METADATA: mailbox_id 0 holds the server entries; rows go with their mailbox (DELETE removes them, RENAME keeps the id).
// IF NOT EXISTS: account databases of one earlier build got the table at version 1.
const metadataSchema = `CREATE TABLE IF NOT EXISTS metadata (
  mailbox_id INTEGER NOT NULL,  -- 0: server entries
  name TEXT NOT NULL,           -- RFC 5464 §3.2: lowercased (names are case-insensitive ASCII)
  value BLOB NOT NULL,          -- NIL is no row; an empty value is an empty blob
  PRIMARY KEY (mailbox_id, name)
) WITHOUT ROWID;`;

// Queue version 2 (issue 5): holding, attempts, retired history, hold rules, suppression lists, MTA-STS policy cache,
// TLS results for TLS reporting (RFC 8460), and the MAIL FROM id used to match incoming DSNs.
const queueDeliverySchema = `
ALTER TABLE messages ADD COLUMN fromid TEXT;             -- unique MAIL FROM id (after the catch-all separator), or NULL
ALTER TABLE recipients ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recipients ADD COLUMN last_attempt INTEGER;  -- ms since epoch
ALTER TABLE recipients ADD COLUMN delayed_dsn INTEGER NOT NULL DEFAULT 0; -- RFC 3464 'delayed' DSN sent
CREATE INDEX messages_fromid ON messages (fromid);
CREATE TABLE attempts (recipient_id INTEGER NOT NULL, time INTEGER NOT NULL, data TEXT NOT NULL); -- data: JSON DeliveryAttempt
CREATE INDEX attempts_recipient ON attempts (recipient_id);
CREATE INDEX recipients_domain ON recipients (domain, next_attempt);
CREATE TABLE retired (
  id INTEGER PRIMARY KEY,         -- the recipient's id while it was queued
  message_id INTEGER NOT NULL,
  account TEXT NOT NULL, mail_from TEXT NOT NULL, fromid TEXT, address TEXT NOT NULL, domain TEXT NOT NULL,
  size INTEGER NOT NULL, received INTEGER NOT NULL, retired INTEGER NOT NULL, keep_until INTEGER NOT NULL,
  success INTEGER NOT NULL, last_error TEXT, data TEXT NOT NULL  -- data: JSON with envelope and attempts
);
CREATE INDEX retired_keep ON retired (keep_until);
CREATE INDEX retired_fromid ON retired (fromid);
CREATE INDEX retired_address ON retired (account, address COLLATE NOCASE, retired);
CREATE TABLE hold_rules (id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, sender_domain TEXT NOT NULL, recipient_domain TEXT NOT NULL, created INTEGER NOT NULL); -- '' matches any
CREATE TABLE suppressions (account TEXT NOT NULL, base TEXT NOT NULL, address TEXT NOT NULL, reason TEXT NOT NULL, manual INTEGER NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (account, base)) WITHOUT ROWID;
CREATE TABLE mtasts (domain TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID; -- RFC 8461 §5.1 policy cache
CREATE TABLE tls_results (
  day TEXT NOT NULL, policy_domain TEXT NOT NULL, mx_host TEXT NOT NULL, policy TEXT NOT NULL, result TEXT NOT NULL,
  count INTEGER NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (day, policy_domain, mx_host, policy, result)
) WITHOUT ROWID; -- RFC 8460 §4: counts per day, policy domain, MX host, policy type and result type
`;

type DatabaseKind = 'account' | 'auth' | 'queue';

/**
 * Each kind's schema as first created (version 1) and the migrations after it, oldest first: migration i takes a
 * database from version i + 1 to i + 2. New databases run them too, so every database of a version has the same
 * schema. Only append here; a released migration never changes.
 */
const schemas: Record<DatabaseKind, { create: string; migrations: readonly string[] }> = {
  account: { create: accountSchema, migrations: [metadataSchema] }, // 2: IMAP METADATA (RFC 5464)
  auth: { create: authSchema, migrations: [tlsPublicKeysSchema, webSessionsSchema, loginAttemptsSchema] }, // 2: TLS public keys (IF NOT EXISTS: older builds created them on every open); 3: web sessions, 4: login attempts (issue 6)
  queue: { create: queueSchema, migrations: [queueDeliverySchema] }, // 2: delivery (issue 5)
};

/** The schema version this build writes, per kind of database (PRAGMA user_version). */
export const schemaVersions: Record<DatabaseKind, number> = { account: 1 + schemas.account.migrations.length, auth: 1 + schemas.auth.migrations.length, queue: 1 + schemas.queue.migrations.length };

/**
 * Opens a database for the group-commit scheme (groupcommit.ts): WAL with
 * synchronous=NORMAL, so a commit writes WAL frames without fsync and the caller fsyncs
 * the WAL asynchronously. Automatic checkpoints (which fsync on this thread) are moved
 * to the checkpoint worker; the high automatic limit is only a safety net.
 */
export function openDatabase(path: string, kind: DatabaseKind): DatabaseSync {
  const db = new DatabaseSync(path);
  try {
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 20000; PRAGMA foreign_keys = OFF; PRAGMA busy_timeout = 5000;');
    migrate(db, path, kind);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

/** Creates or upgrades the schema in place, in one transaction: a crash leaves the old version, which the next open upgrades. */
function migrate(db: DatabaseSync, path: string, kind: DatabaseKind): void {
  const { create, migrations } = schemas[kind];
  const latest = schemaVersions[kind];
  const version = () => (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  const check = (v: number) => {
    if (v > latest) throw new StoreError('CANNOT', `${path}: schema version ${v} is newer than this build's ${latest}; refusing to open it`); // its data may mean what this code does not know
  };
  check(version());
  if (version() === latest) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    let v = version(); // again inside the write lock: another process may have upgraded meanwhile
    check(v);
    if (v === 0) {
      db.exec(create);
      v = 1;
    }
    for (; v < latest; v++) db.exec(migrations[v - 1]!);
    db.exec(`PRAGMA user_version = ${latest}`);
    db.exec('COMMIT');
  } catch (e) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw e;
  }
}
