// Exporting an account, or one mailbox, as mbox files or maildirs in a zip or tgz,
// streamed to a Writable (an HTTP response) with backpressure: each message is read from
// the store as a stream, and nothing but the zip central directory is kept.
import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { canonicalMailboxName, isStoreError, StoreError, type Account, type MailboxInfo, type MessageMeta } from '../store/index.ts';
import { writableSink, type ArchiveWriter } from './archive.ts';
import { formatKeywordsFile, keywordLetters, keywordsFileName, maildirFileName } from './maildir.ts';
import { MboxRecordWriter } from './mbox.ts';
import { mailboxPath } from './names.ts';
import { TarWriter } from './tar.ts';
import { ZipWriter } from './zip.ts';

export interface ExportOptions {
  /** One mailbox (without its children); default: every mailbox of the account. */
  mailbox?: string;
  /** mbox: one <mailbox>.mbox file per mailbox (mboxrd). maildir: <mailbox>/cur/ files with a dovecot-keywords file. */
  format: 'mbox' | 'maildir';
  archive: 'zip' | 'tgz';
}

export interface ExportResult {
  mailboxes: number;
  messages: number;
  skipped: number; // expunged while the export ran
  keywordsDropped: number; // maildir: keywords beyond the 26 letters of a mailbox (the least used are dropped)
}

/**
 * Writes the archive to out and ends it. A mailbox that does not exist is a StoreError
 * NONEXISTENT before anything is written. On any later failure (the client went away, a
 * store error) out is destroyed, so that a download never looks complete when it is not,
 * and the promise rejects.
 */
export async function exportMail(account: Account, o: ExportOptions, out: Writable): Promise<ExportResult> {
  const mailboxes = await selectMailboxes(account, o.mailbox);
  const result: ExportResult = { mailboxes: mailboxes.length, messages: 0, skipped: 0, keywordsDropped: 0 };
  try {
    if (o.archive === 'zip') {
      await exportTo(account, new ZipWriter(writableSink(out)), mailboxes, o.format, 'zip', result);
      out.end();
      await finished(out);
    } else {
      const gzip = createGzip(); // RFC 1952
      const piped = pipeline(gzip, out);
      piped.catch(() => {}); // awaited below; a failure also surfaces as a failed write into gzip
      await exportTo(account, new TarWriter(writableSink(gzip)), mailboxes, o.format, 'tgz', result);
      gzip.end();
      await piped;
    }
  } catch (e) {
    out.destroy(e as Error);
    throw e;
  }
  return result;
}

async function selectMailboxes(account: Account, name: string | undefined): Promise<MailboxInfo[]> {
  const all = (await account.listMailboxes()).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (name === undefined) return all;
  const wanted = canonicalMailboxName(name); // RFC 9051 §5.1: INBOX is case-insensitive
  const found = all.filter((m) => m.name === wanted);
  if (found.length === 0) throw new StoreError('NONEXISTENT', `no mailbox ${wanted}`);
  return found;
}

async function exportTo(account: Account, w: ArchiveWriter, mailboxes: readonly MailboxInfo[], format: 'mbox' | 'maildir', archive: 'zip' | 'tgz', result: ExportResult): Promise<void> {
  const now = new Date();
  for (const mb of mailboxes) {
    const messages = await account.messageMeta(mb.name);
    const path = mailboxPath(mb.name);
    if (format === 'maildir') await writeMaildir(account, w, mb, path, messages, now, result);
    else await writeMbox(account, w, path, messages, now, archive === 'tgz', result);
  }
  await w.end();
}

async function writeMaildir(account: Account, w: ArchiveWriter, mb: MailboxInfo, path: string, messages: readonly MessageMeta[], now: Date, result: ExportResult): Promise<void> {
  for (const sub of ['cur', 'new', 'tmp']) await w.directory(`${path}/${sub}`, now); // a maildir has all three, also when empty
  const { keywords, dropped } = keywordLetters(messages);
  result.keywordsDropped += dropped;
  if (keywords.length > 0) {
    const data = formatKeywordsFile(keywords);
    await w.file(`${path}/${keywordsFileName}`, now, data.length, [data]); // before the messages, for readers that go front to back
  }
  for (const m of messages) {
    const body = await openOrSkip(account, m);
    if (!body) {
      result.skipped++;
      continue;
    }
    // The bytes as stored (CRLF): Dovecot reads CRLF maildir files; the file time is the internal date, as Dovecot keeps it.
    await w.file(`${path}/cur/${maildirFileName(m, mb.uidValidity, keywords)}`, m.internalDate, m.size, body);
    result.messages++;
  }
}

async function writeMbox(account: Account, w: ArchiveWriter, path: string, messages: readonly MessageMeta[], now: Date, sizeFirst: boolean, result: ExportResult): Promise<void> {
  let included = messages;
  let size: number | undefined;
  if (sizeFirst) {
    // tar needs the file's size before its content, and the conversion changes sizes: a first pass counts, reading every message once more.
    size = 0;
    const present: MessageMeta[] = [];
    for (const m of messages) {
      const body = await openOrSkip(account, m);
      if (!body) continue;
      for await (const chunk of mboxRecord(m, body)) size += chunk.length;
      present.push(m);
    }
    included = present;
  }
  result.skipped += messages.length - included.length;
  await w.file(`${path}.mbox`, now, size, mboxRecords(account, included, sizeFirst, result));
}

async function* mboxRecords(account: Account, messages: readonly MessageMeta[], mustExist: boolean, result: ExportResult): AsyncGenerator<Buffer> {
  for (const m of messages) {
    const body = await openOrSkip(account, m);
    if (!body) {
      // The file's size is already in the tar header: a message expunged since it was counted cannot be left out.
      if (mustExist) throw new Error(`message ${m.uid} was expunged during the export; export again`);
      result.skipped++;
      continue;
    }
    yield* mboxRecord(m, body);
    result.messages++;
  }
}

async function* mboxRecord(m: MessageMeta, body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const w = new MboxRecordWriter(m);
  for await (const chunk of body) yield Buffer.concat(w.push(chunk)); // one buffer per chunk, not per line
  yield Buffer.concat(w.end());
}

/** The message's bytes, or undefined when it was expunged after the listing (its file is removed at once). */
async function openOrSkip(account: Account, m: MessageMeta): Promise<AsyncIterable<Buffer> | undefined> {
  try {
    return (await account.openMessage(m.messageId)) as AsyncIterable<Buffer>;
  } catch (e) {
    if (isStoreError(e, 'NONEXISTENT')) return undefined;
    throw e;
  }
}
