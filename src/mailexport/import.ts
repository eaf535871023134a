// Importing an uploaded archive into an account: any mix of mbox files and maildirs in a
// zip, tgz or tar, or a single mbox file. Two passes: the first sees every path (which
// folders are maildirs, their dovecot-keywords files, hard links, how many messages) and,
// for tar, reads the whole archive, so that a truncated or corrupt one fails before
// anything is added; the second imports. Memory stays bounded: archives are read as streams (zip entry by entry),
// and a message over 1 MiB is spooled to a file on its way into the store. Work stays bounded: entries are counted,
// paths have a length limit, and what the archive inflates to has one (decompression bombs).
import { stat } from 'node:fs/promises';
import { canonicalMailboxName, isKeyword, isStoreError, parentNames, type Account, type StoreErrorCode, type SystemFlag } from '../store/index.ts';
import { detectArchive, EntryError, type ArchiveEntry, type ArchiveReader } from './archive.ts';
import { LfToCrlf } from './lines.ts';
import { keywordsFileName, maildirKeywords, parseKeywordsFile, parseMaildirFileName } from './maildir.ts';
import { MboxReader } from './mbox.ts';
import { ArchiveLayout, mboxMailbox, pathProblem } from './names.ts';
import { openArchive } from './open.ts';
import { MessageSpool, SpoolDir } from './spool.ts';

export interface ImportProgress {
  done: number; // messages imported so far
  total?: number; // messages in the archive, when the first pass could count them (no mbox files)
  fraction: number; // 0..1: share of the archive file read (second pass), for a progress bar
  current?: string; // the archive path being imported
}

export interface ImportOptions {
  /** Called after each message (imported or not) and at the end; throttling is the caller's. */
  onProgress?(p: ImportProgress): void;
  signal?: AbortSignal;
  /** The uploaded file's name: names the mailbox of a single mbox file (default "Imported"). */
  name?: string;
  /** Octets; a larger message is reported and skipped. Default 64 MiB. */
  maxMessageSize?: number;
  /** Where messages over 1 MiB are spooled on their way into the store; default the system's temporary folder. */
  tmpDir?: string;
  /** Octets the archive's content may inflate to (per pass); past it the import stops. Default 100 times the file's size, at least 256 MiB. */
  maxContentBytes?: number;
}

export interface ImportError {
  file: string; // archive path
  message: string; // what is wrong, for people; names the message ("message 3") within an mbox file
}

export interface ImportResult {
  mailboxes: string[]; // mailboxes created or added to, sorted
  imported: number; // messages added; each is in the store
  errors: ImportError[]; // files and messages not imported, the first 1000; the import went on after each
  moreErrors?: number; // errors beyond those listed (counted, not kept: the result stays small)
  fatal?: string; // why the import stopped before the end (abort, broken archive, quota); what was imported before stays
}

export const defaultMaxMessageSize = 64 * 1024 * 1024;

/** Entries (files, folders, links) an archive may have; more is refused before anything is imported. */
const maxEntries = 1 << 20;
/** Errors listed in the result; the rest are counted. */
const maxListedErrors = 1000;
/** Uncompressed octets allowed per compressed octet of the upload: mail compresses 2-10 times, deflate up to 1032 (bombs). */
const maxExpansion = 100;
/** Uncompressed octets any archive may reach, however small. */
const minContentAllowance = 256 * 1024 * 1024;

/** Store errors after which no further message can be added: the import stops. */
const fatalStoreErrors: ReadonlySet<StoreErrorCode> = new Set(['OVERQUOTA', 'CLOSED', 'IO']);

class FatalImport extends Error {}

export async function importMail(account: Account, file: string, o: ImportOptions = {}): Promise<ImportResult> {
  const run = new ImportRun(account, o);
  try {
    await run.run(file);
  } catch (e) {
    run.result.fatal = e instanceof Error ? e.message : String(e);
  } finally {
    await run.close();
  }
  run.result.mailboxes = [...run.touched].sort();
  return run.result;
}

interface Placement {
  path: string; // the maildir file, for its flags and errors
  mailbox: string;
  flags: SystemFlag[];
  keywords: string[];
  internalDate: Date | undefined;
}

class ImportRun {
  readonly result: ImportResult = { mailboxes: [], imported: 0, errors: [] };
  readonly touched = new Set<string>();
  readonly #account: Account;
  readonly #o: ImportOptions;
  readonly #maxSize: number;
  readonly #spoolDir: SpoolDir;
  readonly #layout = new ArchiveLayout();
  readonly #keywordFiles = new Map<string, Map<number, string>>(); // maildir -> letter index -> keyword
  readonly #links = new Map<string, string[]>(); // tar hard links: target -> other names of the same file; removed when the target is imported
  #known = new Set<string>(); // mailboxes that exist
  #reader: ArchiveReader | undefined;
  #fileSize = 0;
  #total: number | undefined;
  #current: string | undefined;

  constructor(account: Account, o: ImportOptions) {
    this.#account = account;
    this.#o = o;
    this.#maxSize = o.maxMessageSize ?? defaultMaxMessageSize;
    this.#spoolDir = new SpoolDir(o.tmpDir);
  }

  async close(): Promise<void> {
    await this.#reader?.close();
    await this.#spoolDir.remove();
  }

  async run(file: string): Promise<void> {
    this.#checkAbort();
    const kind = await detectArchive(file);
    this.#fileSize = (await stat(file)).size;
    const maxContent = this.#o.maxContentBytes ?? Math.max(minContentAllowance, maxExpansion * this.#fileSize);
    this.#reader = await openArchive(file, kind, this.#o.name ?? 'Imported', maxContent);
    this.#known = new Set((await this.#account.listMailboxes()).map((m) => m.name));
    try {
      await this.#scan(this.#reader);
    } catch (e) {
      if (e instanceof FatalImport) throw e;
      // The first pass reads the whole archive, so a broken one fails before any message is added: the user can fix it and upload again without duplicates.
      throw new Error(`nothing was imported: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    for (const maildir of this.#layout.maildirs()) {
      // Empty maildirs are mailboxes too; created first, so that the hierarchy appears in order.
      await this.#ensureMailbox(this.#layout.maildirMailbox(maildir)).catch((e: unknown) => this.#entryFailed(maildir + '/', e));
    }
    for await (const entry of this.#reader.entries()) {
      this.#checkAbort();
      // Directories were seen in the scan, and links and other files reported there; hard links are imported with their target.
      if (entry.type !== 'file' || pathProblem(entry.path) !== undefined) continue;
      this.#current = entry.path;
      try {
        await this.#importEntry(entry);
      } catch (e) {
        if (e instanceof EntryError || e instanceof FatalImport) this.#entryFailed(entry.path, e);
        else throw new Error(`${entry.path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e }); // the archive broke here: fatal
      }
    }
    this.#current = undefined;
    for (const [target, names] of this.#links) {
      for (const name of names) this.#report(name, `a hard link to ${target}, which is not a maildir message in the archive: not imported`);
    }
    this.#progress(1);
  }

  /** First pass: paths, keyword files, hard links, and the message count when it can be known. */
  async #scan(reader: ArchiveReader): Promise<void> {
    let entries = 0;
    let messages = 0;
    let others = 0;
    for await (const e of reader.entries()) {
      this.#checkAbort();
      if (++entries > maxEntries) throw new Error(`more than ${maxEntries} files and folders in the archive`);
      const problem = pathProblem(e.path);
      if (problem !== undefined) {
        this.#report(e.path, problem);
        continue;
      }
      if (e.type === 'directory') this.#layout.add(e.path, true);
      if (e.type === 'other' && this.#layout.classify(e.path).kind !== 'ignored') this.#report(e.path, 'not a regular file (a symbolic link, device or FIFO): not imported');
      if (e.type !== 'file' && e.type !== 'hardlink') continue;
      this.#layout.add(e.path, false);
      if (e.type === 'hardlink') {
        const target = e.linkTarget ?? '';
        const names = this.#links.get(target);
        if (names) names.push(e.path);
        else this.#links.set(target, [e.path]);
      }
      const kind = this.#layout.classify(e.path).kind;
      if (kind === 'maildirMessage') messages++;
      else if (kind === 'other') others++;
      if (e.type === 'file' && (e.path === keywordsFileName || e.path.endsWith('/' + keywordsFileName))) {
        try {
          this.#keywordFiles.set(e.path.slice(0, -keywordsFileName.length - 1), parseKeywordsFile(await readSmall(e, 64 * 1024)));
        } catch (err) {
          this.#entryFailed(e.path, err);
        }
      }
    }
    this.#total = others === 0 ? messages : undefined;
  }

  async #importEntry(entry: ArchiveEntry): Promise<void> {
    const kind = this.#layout.classify(entry.path);
    if (kind.kind === 'maildirMessage') return this.#importMaildirFile(entry);
    if (kind.kind !== 'other') return; // not mail: a maildir's tmp/ (deliveries not completed), indexes, dot files, macOS metadata

    const it = entry.body()[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let headLength = 0;
    while (headLength < 5) {
      const n = await it.next();
      if (n.done) break;
      head.push(n.value);
      headLength += n.value.length;
    }
    const start = Buffer.concat(head);
    if (start.length === 0) {
      if (!/\.mbox$/i.test(entry.path)) throw new EntryError('an empty file: not mail');
      await this.#ensureMailbox(mboxMailbox(entry.path)); // an exported empty mailbox
      return;
    }
    if (start.subarray(0, 5).toString('latin1') !== 'From ') {
      await it.return?.();
      throw new EntryError('not mail: neither an mbox file (starting with "From ", RFC 4155) nor a file in a maildir\'s cur/ or new/');
    }
    await this.#importMbox(entry.path, (async function* () {
      yield start;
      for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
    })());
  }

  async #importMbox(path: string, body: AsyncIterable<Buffer>): Promise<void> {
    const mailbox = await this.#ensureMailbox(mboxMailbox(path));
    const reader = new MboxReader();
    let index = 0;
    let imported = 0;
    let current: { spool: MessageSpool; date: Date | undefined; index: number } | undefined;
    const handle = async (events: ReturnType<MboxReader['push']>) => {
      let data: Buffer[] = [];
      for (const ev of events) {
        if (ev.kind === 'begin') current = { spool: new MessageSpool(this.#spoolDir, this.#maxSize), date: ev.date, index: ++index };
        else if (ev.kind === 'data') data.push(ev.data);
        else if (current) {
          await current.spool.write(data);
          data = [];
          const m = current;
          current = undefined;
          if (await this.#add(m.spool, [{ path, mailbox, flags: ev.flags, keywords: ev.keywords, internalDate: m.date }], `message ${m.index}: `)) imported++;
        }
      }
      if (current && data.length > 0) await current.spool.write(data);
    };
    try {
      for await (const chunk of body) {
        this.#checkAbort();
        await handle(reader.push(chunk));
      }
      await handle(reader.end());
    } catch (e) {
      if (e instanceof FatalImport || !(e instanceof Error)) throw e;
      const where = current ? `message ${current.index}: ` : '';
      const msg = `${where}${e.message}${imported > 0 ? ` (the ${imported} messages before it were imported)` : ''}`;
      if (e instanceof EntryError) throw new EntryError(msg);
      throw new Error(msg, { cause: e }); // the archive itself broke: fatal
    } finally {
      await current?.spool.discard();
    }
  }

  /** A maildir message, and the hard links to it (each a placement of its own, possibly in another maildir). */
  async #importMaildirFile(entry: ArchiveEntry): Promise<void> {
    const links = this.#links.get(entry.path) ?? [];
    this.#links.delete(entry.path);
    const placements: Placement[] = [];
    for (const path of [entry.path, ...links]) {
      const kind = this.#layout.classify(path);
      if (kind.kind !== 'maildirMessage') {
        this.#report(path, `a hard link to ${entry.path} outside a maildir's cur/ or new/: not imported`);
        continue;
      }
      const base = path.slice(path.lastIndexOf('/') + 1);
      const info = parseMaildirFileName(base);
      let mailbox: string;
      try {
        mailbox = await this.#ensureMailbox(this.#layout.maildirMailbox(kind.maildir));
      } catch (e) {
        this.#entryFailed(path, e);
        continue;
      }
      // Dovecot takes the file's mtime as the internal date; the name's time (delivery) when there is none.
      const mtime = entry.mtime && entry.mtime.getTime() > 0 ? entry.mtime : undefined;
      const internalDate = mtime ?? (info.seconds !== undefined ? new Date(info.seconds * 1000) : undefined);
      placements.push({ path, mailbox, flags: info.flags, keywords: maildirKeywords(info, this.#keywordFiles.get(kind.maildir)), internalDate });
    }
    if (placements.length === 0) return;
    const spool = new MessageSpool(this.#spoolDir, this.#maxSize);
    try {
      const crlf = new LfToCrlf();
      for await (const chunk of entry.body()) {
        this.#checkAbort();
        await spool.write(crlf.push(chunk));
        if (spool.tooLarge) break; // no need to read the rest
      }
    } catch (e) {
      // The content is bad (CRC, truncated): the links share it. The caller reports the file itself.
      if (e instanceof EntryError) for (const p of placements) if (p.path !== entry.path) this.#report(p.path, e.message);
      await spool.discard();
      throw e;
    }
    try {
      await this.#add(spool, placements, '');
    } finally {
      await spool.discard();
    }
  }

  /** Appends a spooled message to each placement; returns whether the first one was added. Errors are reported, except those that end the import. */
  async #add(spool: MessageSpool, placements: readonly Placement[], label: string): Promise<boolean> {
    this.#checkAbort();
    let added = false;
    if (spool.tooLarge) {
      for (const p of placements) this.#report(p.path, `${label}larger than the limit of ${this.#maxSize} octets: not imported`);
      this.#progress();
      return false;
    }
    const input = await spool.input();
    for (const p of placements) {
      const attrs = { flags: p.flags, keywords: p.keywords.filter(isKeyword), internalDate: p.internalDate };
      try {
        try {
          await this.#account.append(p.mailbox, { ...input, ...attrs });
        } catch (e) {
          if (!isStoreError(e, 'LIMIT') || attrs.keywords.length === 0) throw e;
          await this.#account.append(p.mailbox, { ...input, ...attrs, keywords: [] }); // the account's keyword limit: the message matters more
          this.#report(p.path, `${label}imported without its keywords (${attrs.keywords.join(' ')}): ${e.message}`);
        }
        this.result.imported++;
        this.touched.add(p.mailbox);
        added = true;
      } catch (e) {
        if (isStoreError(e) && fatalStoreErrors.has(e.code)) throw new FatalImport(`${p.path}: ${label}${e.message}`);
        this.#report(p.path, `${label}${e instanceof Error ? e.message : String(e)}`);
      }
      this.#progress();
    }
    return added;
  }

  /** The mailbox's name as the store spells it, created if missing (with its parents: RFC 9051 §6.3.4). */
  async #ensureMailbox(name: string): Promise<string> {
    const canonical = canonicalMailboxName(name); // RFC 9051 §5.1: INBOX is case-insensitive
    if (this.#known.has(canonical)) return canonical;
    const levels = [...parentNames(canonical), canonical];
    try {
      await this.#account.createMailbox(canonical);
      for (const n of levels) if (!this.#known.has(n)) this.touched.add(n); // the parents the store created too
    } catch (e) {
      if (isStoreError(e) && fatalStoreErrors.has(e.code)) throw new FatalImport(e.message);
      if (!isStoreError(e, 'ALREADYEXISTS')) throw new EntryError(`mailbox ${JSON.stringify(canonical)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const n of levels) this.#known.add(n);
    return canonical;
  }

  #entryFailed(path: string, e: unknown): void {
    if (e instanceof EntryError) this.#report(path, e.message);
    else throw e; // FatalImport, abort, or the archive broke
  }

  #report(file: string, message: string): void {
    if (this.result.errors.length < maxListedErrors) this.result.errors.push({ file, message });
    else this.result.moreErrors = (this.result.moreErrors ?? 0) + 1;
  }

  #progress(fraction?: number): void {
    const p: ImportProgress = {
      done: this.result.imported,
      fraction: fraction ?? Math.min(1, this.#fileSize > 0 ? (this.#reader?.position ?? 0) / this.#fileSize : 0),
    };
    if (this.#total !== undefined) p.total = this.#total;
    if (this.#current !== undefined) p.current = this.#current;
    this.#o.onProgress?.(p);
  }

  #checkAbort(): void {
    if (this.#o.signal?.aborted) throw new FatalImport('import aborted');
  }
}

/** An entry's content, at most max octets (keyword files, never mail). */
async function readSmall(entry: ArchiveEntry, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of entry.body()) {
    length += chunk.length;
    if (length > max) throw new EntryError(`larger than ${max} octets: not a keywords file`);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}
