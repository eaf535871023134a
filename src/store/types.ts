// The store's public, backend-neutral data types and interfaces. Nothing here names
// SQLite or files: a PostgreSQL/object-storage backend implements the same interfaces.
import type { Readable } from 'node:stream';
import type { MessageIndex } from '../mime/index.ts';

/** RFC 9051 §2.3.1.1: 32-bit, strictly ascending within a mailbox, never reused under one UIDVALIDITY. */
export type Uid = number;
/** RFC 7162 §3.1: positive, strictly increasing per account (63-bit in the RFC; JS numbers stay exact far beyond any real count). */
export type ModSeq = number;
/** A set of UIDs as IMAP writes them (RFC 9051 §9 sequence-set): single UIDs and inclusive ranges; `*` is passed as 0xffffffff. */
export type UidSet = readonly (Uid | readonly [Uid, Uid])[];

export const systemFlags = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'] as const; // RFC 9051 §2.3.2 (\Recent is per session, not stored)
export type SystemFlag = (typeof systemFlags)[number];

export const specialUses = [
  '\\Sent', // RFC 6154 §2
  '\\Drafts', // RFC 6154 §2
  '\\Trash', // RFC 6154 §2
  '\\Junk', // RFC 6154 §2
  '\\Archive', // RFC 6154 §2
  '\\All', // RFC 6154 §2
  '\\Flagged', // RFC 6154 §2
] as const;
export type SpecialUse = (typeof specialUses)[number];

/** Mailbox hierarchy separator (RFC 9051 §5.1.1). */
export const hierarchySeparator = '/';

export interface MailboxInfo {
  name: string; // "INBOX" is always spelled so (RFC 9051 §5.1: case-insensitive)
  specialUse: SpecialUse | null; // RFC 6154
  uidValidity: number; // RFC 9051 §2.3.1.1: unique over time for this name
  subscribed: boolean; // RFC 9051 §6.3.7
}

export interface MailboxStatus {
  uidValidity: number;
  uidNext: Uid; // RFC 9051 §2.3.1.1: greater than every UID ever assigned in the mailbox
  highestModseq: ModSeq; // RFC 7162 §3.1.1: highest MODSEQ of any change in the mailbox, expunges included
  total: number; // messages
  unseen: number; // messages without \Seen
  deleted: number; // messages with \Deleted
  size: number; // octets, sum of message sizes
}

/** A message's metadata: everything but the MIME index (cheap to read for many messages). */
export interface MessageMeta {
  uid: Uid;
  modseq: ModSeq; // RFC 7162 §3.1: of the last change to this message
  flags: SystemFlag[];
  keywords: string[]; // canonical spelling (first one seen in the account)
  internalDate: Date; // RFC 9051 §2.3.3
  saveDate: Date; // RFC 8514: when the message was saved in this mailbox
  size: number; // RFC 9051 §2.3.4: octets of the message file
  messageId: string; // internal id of the (immutable) message content; shared by copies
}

export interface MessageRow extends MessageMeta {
  mimeIndex: MessageIndex; // opaque to the store, computed by src/mime at delivery
}

/** An IMAP METADATA entry (RFC 5464 §3.2): lowercased name under /private or /shared, and its value. */
export interface MetadataEntry {
  name: string;
  value: Buffer;
}

export interface MessageAttributes {
  flags?: readonly string[]; // system flags as a client wrote them (case-insensitive); anything else is BADFLAG
  keywords?: readonly string[];
  internalDate?: Date; // default: now
}

export interface DeliverInput extends MessageAttributes {
  /** A spooled message file. It is linked (or stream-copied) into the store and not consumed: the caller removes its spool file afterwards and must not modify it. */
  spoolPath: string;
}

export type AppendInput = MessageAttributes & ({ data: Buffer } | { spoolPath: string });

export interface Added {
  uid: Uid;
  modseq: ModSeq;
  uidValidity: number; // for APPENDUID (RFC 4315 §3)
  messageId: string;
}

/** RFC 4315 §3 COPYUID: source UIDs and the UIDs they got in the destination, in the same order. */
export interface UidMapping {
  uidValidity: number;
  pairs: [source: Uid, destination: Uid][];
}

export interface FlagChange {
  mode: 'add' | 'remove' | 'replace'; // RFC 9051 §6.4.6: +FLAGS, -FLAGS, FLAGS
  flags?: readonly string[]; // system flags, case-insensitive (RFC 9051 §2.3.2); anything else is BADFLAG
  keywords?: readonly string[];
  unchangedSince?: ModSeq; // RFC 7162 §3.1.3
}

export interface FlagsUpdated {
  uid: Uid;
  modseq: ModSeq;
  flags: SystemFlag[];
  keywords: string[];
}

export interface FlagResult {
  updated: FlagsUpdated[]; // only messages whose flags actually changed
  failedUnchangedSince: Uid[]; // RFC 7162 §3.1.3: MODIFIED response code
}

export interface MessageQuery {
  uids?: UidSet;
  changedSince?: ModSeq; // RFC 7162 §3.1.4.1: only messages with a greater MODSEQ
}

export interface Quota {
  limit: number | null; // octets; null: no limit
  used: number; // octets of all messages (copies count), as RFC 9208 STORAGE
}

/** A committed, durable change. Published in commit order, after fsync. */
export type ChangeEvent =
  | { type: 'added'; mailbox: string; uidValidity: number; modseq: ModSeq; uid: Uid; flags: SystemFlag[]; keywords: string[]; size: number }
  | { type: 'flags'; mailbox: string; uidValidity: number; modseq: ModSeq; uid: Uid; flags: SystemFlag[]; keywords: string[] }
  | { type: 'expunged'; mailbox: string; uidValidity: number; modseq: ModSeq; uids: Uid[] }
  | { type: 'mailboxCreated'; mailbox: string; uidValidity: number; modseq: ModSeq; specialUse: SpecialUse | null }
  | { type: 'mailboxRenamed'; mailbox: string; from: string; uidValidity: number; modseq: ModSeq }
  | { type: 'mailboxDeleted'; mailbox: string; uidValidity: number; modseq: ModSeq }
  | { type: 'counts'; mailbox: string; modseq: ModSeq; status: MailboxStatus }
  | { type: 'metadata'; mailbox: string | null; names: string[] }; // RFC 5464 §4.4: entries set or removed (lowercased; null: server entries); no MODSEQ, metadata is not message state

export type ChangeListener = (event: ChangeEvent) => void;

export interface ChangeFeed {
  /** Listens to an account's changes; returns the function that stops listening. */
  subscribe(listener: ChangeListener): () => void;
}

export interface ByteRange {
  start?: number; // first octet, inclusive
  end?: number; // last octet, inclusive
}

export interface Account {
  readonly name: string;
  readonly changes: ChangeFeed;
  listMailboxes(): Promise<MailboxInfo[]>;
  createMailbox(name: string, options?: { specialUse?: SpecialUse }): Promise<MailboxInfo>;
  renameMailbox(from: string, to: string): Promise<void>;
  deleteMailbox(name: string): Promise<void>;
  subscribe(name: string): Promise<void>;
  unsubscribe(name: string): Promise<void>;
  listSubscriptions(): Promise<string[]>;
  mailboxStatus(name: string): Promise<MailboxStatus>;
  deliver(mailbox: string, input: DeliverInput): Promise<Added>;
  append(mailbox: string, input: AppendInput): Promise<Added>;
  copy(from: string, uids: UidSet, to: string): Promise<UidMapping>;
  move(from: string, uids: UidSet, to: string): Promise<UidMapping>;
  storeFlags(mailbox: string, uids: UidSet, change: FlagChange): Promise<FlagResult>;
  expunge(mailbox: string, uids?: UidSet): Promise<Uid[]>;
  messages(mailbox: string, query?: MessageQuery): Promise<MessageRow[]>;
  /** As messages(), without the MIME index: for listings of many messages (flags, UIDs, sizes). */
  messageMeta(mailbox: string, query?: MessageQuery): Promise<MessageMeta[]>;
  /** RFC 8508 REPLACE: appends to `target` and expunges `uid` from `mailbox` in one transaction; `expunged` false when the UID was already gone. */
  replace(mailbox: string, uid: Uid, target: string, input: AppendInput): Promise<Added & { expunged: boolean }>;
  /** RFC 5464 entries of a mailbox (null: the server's), sorted by name; all, or those named (exact names, case-insensitive: RFC 5464 §3.2). NONEXISTENT for an absent mailbox. */
  getMetadata(mailbox: string | null, names?: readonly string[]): Promise<MetadataEntry[]>;
  /** Sets (value) or removes (null) entries, all or none (RFC 5464 §4.3). BADNAME for invalid names, MAXSIZE and TOOMANY for the limits (metadataLimits), NONEXISTENT for an absent mailbox. */
  setMetadata(mailbox: string | null, entries: readonly { name: string; value: Buffer | null }[]): Promise<void>;
  /** The bytes of a message (or a range of them). Message content never changes. */
  openMessage(messageId: string, range?: ByteRange): Promise<Readable>;
  /** RFC 7162 §3.2.10: UIDs expunged with a MODSEQ greater than `modseq`. */
  vanishedSince(mailbox: string, modseq: ModSeq, uids?: UidSet): Promise<Uid[]>;
  quota(): Promise<Quota>;
  setQuota(limit: number | null): Promise<void>;
  /** Releases this user's reference; the last close waits for pending writes and closes the account. */
  close(): Promise<void>;
}

/** A TLS client public key that logs in to an account (SASL EXTERNAL, RFC 4422 Appendix A). */
export interface TlsPublicKey {
  fingerprint: string; // base64url(SHA-256(SubjectPublicKeyInfo DER)); unique
  name: string; // for people, e.g. "laptop"
  account: string;
  loginAddress: string; // address of the account that the key logs in as
  noIMAPPreauth: boolean; // true: IMAP over implicit TLS does not answer PREAUTH for this key
  certDER: string; // base64 of the certificate it came from
  created: string; // ISO 8601
}

/** A server-side web session (src/http); the session id itself is never stored. */
export interface WebSession {
  idHash: string; // base64url(SHA-256(session id))
  surface: string; // 'account', later 'webmail'
  account: string;
  csrfToken: string;
  created: number; // ms since epoch
  lastUsed: number; // ms since epoch
}

/** One login over SMTP, IMAP or the web (kept for the login history pages). */
export interface LoginAttempt {
  id: number;
  time: number; // ms since epoch
  account: string; // '' when the user name names no account
  username: string;
  ip: string;
  protocol: string; // smtp, submission, imap, web-account, web-admin
  mechanism: string;
  result: 'ok' | 'badauth' | 'disabled' | 'malformed' | 'ratelimited' | 'error';
  tls: string; // TLS version, '' without TLS
}

export interface AuthStore {
  setCredentials(account: string, credentials: object): Promise<void>;
  getCredentials(account: string): Promise<unknown>;
  removeCredentials(account: string): Promise<void>;
  /** Everything that logs in to the account, in one transaction: credentials, TLS public keys, web sessions (for removing an account). */
  removeLogins(account: string): Promise<void>;
  /** Throws StoreError ALREADYEXISTS when the fingerprint is registered. */
  addTlsPublicKey(k: TlsPublicKey): Promise<void>;
  getTlsPublicKey(fingerprint: string): Promise<TlsPublicKey | undefined>;
  /** All keys, or the account's; ordered by account and creation. */
  listTlsPublicKeys(account?: string): Promise<TlsPublicKey[]>;
  /** Throws StoreError NONEXISTENT when absent. */
  removeTlsPublicKey(fingerprint: string): Promise<void>;
  addWebSession(s: WebSession): Promise<void>;
  getWebSession(idHash: string): Promise<WebSession | undefined>;
  touchWebSession(idHash: string, lastUsed: number): Promise<void>;
  removeWebSession(idHash: string): Promise<void>;
  /** Ends all the account's sessions except keepIdHash (e.g. after a password change); returns how many ended. */
  removeOtherWebSessions(account: string, keepIdHash?: string): Promise<number>;
  /** Removes sessions idle since before idleBefore or created before createdBefore (ms since epoch); returns how many. */
  pruneWebSessions(idleBefore: number, createdBefore: number): Promise<number>;
  addLoginAttempt(a: Omit<LoginAttempt, 'id'>): Promise<void>;
  /** Newest first, of one account or all; `before` is an id to page back from. */
  listLoginAttempts(o: { account?: string; limit: number; before?: number }): Promise<LoginAttempt[]>;
  /** Removes attempts older than `before` (ms since epoch) and beyond the newest maxRows. */
  pruneLoginAttempts(before: number, maxRows: number): Promise<number>;
}

/** A message for the outbound queue: what SMTP accepted, with its envelope (RFC 5321, RFC 3461 DSN parameters). */
export interface QueueInput {
  account: string; // sending account; '' when not from a local account
  mailFrom: string; // '' for the null reverse-path
  smtputf8: boolean; // RFC 6531
  body: '7BIT' | '8BITMIME' | 'BINARYMIME';
  envid?: string; // RFC 3461 §4.4
  ret?: 'FULL' | 'HDRS'; // RFC 3461 §4.3
  requireTLS: boolean | null; // RFC 8689: true REQUIRETLS, false 'TLS-Required: No', null neither
  recipients: Array<{ address: string; domain: string; notify?: string; orcpt?: string }>; // domain: A-label
  spoolPath: string; // complete message file; linked into the queue (the caller removes the spool)
  nextAttempt: Date; // first delivery attempt (RFC 4865 FUTURERELEASE; now otherwise)
  extra: Record<string, string>; // X-Mailcove-Extra-* headers, for webhooks
}
export interface QueuedRecipient {
  id: number; address: string; domain: string; notify?: string; orcpt?: string;
  nextAttempt: Date; attempts: number; lastError?: string;
  held: boolean; // held by a hold rule or an operator: no attempts until released
  holdChecked: boolean; // released, or already checked against the hold rules (they apply once, before the first attempt)
  lastAttempt?: Date;
  delayedDsnSent: boolean; // RFC 3464 'delayed' DSN already sent
}
export interface QueuedMessage extends Omit<QueueInput, 'spoolPath' | 'recipients' | 'nextAttempt'> {
  id: number;
  size: number;
  received: Date;
  fromid?: string; // unique MAIL FROM id for DSN matching
  recipients: QueuedRecipient[];
}
/** An account's submissions over the last 24 hours, for the per-account limits. */
export interface SubmissionCounts {
  messages: number;
  firstTimeRecipients: number; // recipients first sent to in the last 24 hours
  newRecipients: string[]; // of the given recipients, those never sent to before
}
/** One delivery attempt's result, kept with the recipient and in the retired history. */
export interface DeliveryAttempt {
  time: string; // ISO 8601
  transport: string; // 'direct', a configured transport name, or 'localserve'
  mx?: string; // host name of the MX (or smarthost) talked to
  ip?: string;
  tls?: string; // 'none', 'starttls', 'starttls-verified', 'dane', 'mtasts', 'implicit'
  code?: number; // SMTP reply code, when a reply was the outcome
  enhanced?: string; // RFC 3463
  error?: string; // text of the failure; absent on success
  success: boolean;
}
/** What becomes of recipients after an attempt. */
export type AttemptOutcome =
  | { kind: 'retry'; nextAttempt: Date; delayedDsnSent?: boolean }
  | { kind: 'retire'; success: boolean; keepUntil: Date; /** Added in the same transaction, so they are visible with the retirement. */ suppress?: ReadonlyArray<Omit<Suppression, 'created'>> };
/** Criteria for the retired history; every given one must match. */
export interface RetiredQuery {
  ids?: number[];
  account?: string;
  from?: string; // substring of the MAIL FROM address, case-insensitive
  to?: string; // substring of the recipient address (so a domain works too), case-insensitive
  success?: boolean;
  retiredAfter?: number; // ms since epoch
  fromid?: string;
}

/** A delivered or failed recipient in the retired history. */
export interface RetiredRecipient {
  id: number; messageId: number; account: string; mailFrom: string; fromid?: string; address: string; domain: string;
  size: number; received: Date; retired: Date; keepUntil: Date; success: boolean; lastError?: string;
  envid?: string; notify?: string; orcpt?: string; attempts: DeliveryAttempt[];
}
/** A hold rule: messages matching every non-empty field are held (an empty rule holds everything). */
export interface HoldRule { id: number; account: string; senderDomain: string; recipientDomain: string; created: Date }
/** A suppressed recipient of an account; `base` is the lookup key (see the queue's baseAddress). */
export interface Suppression { account: string; base: string; address: string; reason: string; manual: boolean; created: Date }
/** One TLS outcome to count for TLS reporting (RFC 8460 §4.3). */
export interface TlsResult {
  policyDomain: string; mxHost: string;
  policy: 'sts' | 'tlsa' | 'no-policy-found';
  result: string; // 'success' or an RFC 8460 §4.3 result type
  detail?: string;
}
export interface TlsResultCount extends TlsResult { day: string; count: number }

export interface QueueStore {
  /** Adds a message durably (file fsynced, rows committed) and records the submission for the account's limits. */
  add(input: QueueInput & { fromid?: string; held?: boolean }): Promise<QueuedMessage>;
  /** Adds a message built in memory (a DSN), durably. */
  addData(input: Omit<QueueInput, 'spoolPath'> & { data: Buffer }): Promise<QueuedMessage>;
  get(id: number): Promise<QueuedMessage | undefined>;
  list(): Promise<QueuedMessage[]>;
  openMessage(id: number): Promise<Readable>;
  submissionCounts(account: string, recipients: readonly string[], now?: number): Promise<SubmissionCounts>;
  /** Calls fn after each add (the queue wakes up); returns the unsubscribe function. */
  watch(fn: () => void): () => void;
  /** Messages with their recipients that are due (not held, next attempt at or before `now`), oldest first. */
  due(now: number, limit: number, domain?: string): Promise<QueuedMessage[]>;
  /** Recipient domains with due recipients, the longest waiting first, leaving out `exclude`. */
  dueDomains(now: number, limit: number, exclude?: readonly string[]): Promise<string[]>;
  /** The earliest next attempt of a recipient that is not held. */
  nextDue(): Promise<number | undefined>;
  /** Recipients in the queue, and how many of them are held. */
  counts(): Promise<{ queued: number; held: number }>;
  /** Records an attempt for recipients and schedules or retires them; a message without recipients left is removed. */
  recordAttempt(recipientIds: readonly number[], attempt: DeliveryAttempt, outcome: AttemptOutcome): Promise<void>;
  attempts(recipientId: number): Promise<DeliveryAttempt[]>;
  setHeld(recipientIds: readonly number[], held: boolean): Promise<void>;
  setNextAttempt(recipientIds: readonly number[], at: Date): Promise<void>;
  /** Removes recipients without retiring them (drop). */
  remove(recipientIds: readonly number[]): Promise<void>;
  listRetired(): Promise<RetiredRecipient[]>;
  /** Retired recipients matching every given criterion, newest first, a page of them with the total (filtered and paged in SQL). */
  retiredPage(f: RetiredQuery, page?: { offset: number; limit: number }): Promise<{ total: number; items: RetiredRecipient[] }>;
  retiredByFromId(fromid: string): Promise<RetiredRecipient[]>;
  /** The account's most recent retired entries for an address (case-insensitive), newest first. */
  retiredFor(account: string, address: string, limit: number): Promise<RetiredRecipient[]>;
  purgeRetired(now: number): Promise<number>;
  listHoldRules(): Promise<HoldRule[]>;
  addHoldRule(rule: Omit<HoldRule, 'id' | 'created'>): Promise<HoldRule>;
  removeHoldRule(id: number): Promise<void>;
  listSuppressions(account?: string): Promise<Suppression[]>;
  addSuppression(s: Omit<Suppression, 'created'>): Promise<void>;
  removeSuppression(account: string, base: string): Promise<void>;
  getSuppression(account: string, base: string): Promise<Suppression | undefined>;
  getMtaStsPolicy(domain: string): Promise<unknown>;
  putMtaStsPolicy(domain: string, data: unknown): Promise<void>;
  listMtaStsPolicies(): Promise<Array<{ domain: string; data: unknown }>>;
  deleteMtaStsPolicy(domain: string): Promise<void>;
  recordTlsResults(results: readonly TlsResult[], now?: Date): Promise<void>;
  tlsResults(sinceDay: string): Promise<TlsResultCount[]>;
}

export interface Store {
  readonly auth: AuthStore;
  readonly queue: QueueStore;
  listAccounts(): Promise<string[]>;
  createAccount(name: string, options?: { quota?: number }): Promise<void>;
  removeAccount(name: string): Promise<void>;
  openAccount(name: string): Promise<Account>;
  close(): Promise<void>;
}

export interface VerifyReport {
  accounts: number;
  messages: number;
  problems: string[]; // corruption: each line names the account and what is wrong
  orphans: string[]; // harmless: message files without a row (a crash between file and commit)
}
