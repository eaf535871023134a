// Archive paths and mailbox names: the folders of an archive are the mailbox hierarchy
// (the store's separator is "/", so a path is the name). Importing sees every path first,
// to tell maildirs (folders with cur/new/tmp, Maildir++ dot folders) from mbox files.
import { hierarchySeparator } from '../store/index.ts';
import { decodeMutf7 } from './maildir.ts';

const sep = hierarchySeparator;

/** The archive path of a mailbox. "%" and a leading "." of a level are escaped, so that a level is never a dot folder (Maildir++) or "." / "..". */
export function mailboxPath(name: string): string {
  return name.split(sep).map((c) => c.replace(/%/g, '%25').replace(/^\./, '%2E')).join('/');
}

/** Undoes mailboxPath's escapes only, so that other archives' names keep their "%". */
function decodeLevel(c: string): string {
  return c.replace(/%(25|2E)/gi, (_, h: string) => (h === '25' ? '%' : '.'));
}

/** A path as archives write it, made comparable: "/" separators, no leading "./" or "/", no empty or "." levels. */
export function normalizePath(path: string): string {
  return path.replace(/\\/g, '/').split('/').filter((c) => c !== '' && c !== '.').join('/');
}

function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

const maildirSubdirs = new Set(['cur', 'new', 'tmp']);
/** Files that maildir servers and mail clients keep beside the mail: indexes, UID lists, subscriptions. */
const metaFile = /^(dovecot|courier|maildirfolder$|subscriptions$)|\.msf$/i;

export type PathKind =
  | { kind: 'maildirMessage'; maildir: string } // a file in cur/ or new/
  | { kind: 'maildirKeywords'; maildir: string }
  | { kind: 'ignored' } // not mail: tmp/ (unfinished deliveries), indexes, dot files, macOS resource forks
  | { kind: 'other' }; // an mbox file, if its content says so

export class ArchiveLayout {
  readonly #maildirs = new Set<string>(); // '' is the archive's top folder

  /** Notes a path during the first pass; directories matter too (an empty maildir has only them). */
  add(path: string, isDir: boolean): void {
    const dir = isDir ? path : dirname(path);
    if (maildirSubdirs.has(basename(dir))) this.#maildirs.add(dirname(dir)); // "X/cur" makes X a maildir, "cur" the top folder
  }

  classify(path: string): PathKind {
    const base = basename(path);
    const dir = dirname(path);
    if (base.startsWith('.') || path.split('/').includes('__MACOSX')) return { kind: 'ignored' };
    if (/\.mbox$/i.test(base)) return { kind: 'other' }; // also below a level named cur or new: "Lists/new/Weekly.mbox"
    const sub = basename(dir);
    if (sub === 'cur' || sub === 'new') return { kind: 'maildirMessage', maildir: dirname(dir) };
    if (sub === 'tmp' && this.#maildirs.has(dirname(dir))) return { kind: 'ignored' }; // maildir: tmp/ holds deliveries in progress
    if (base === 'dovecot-keywords' && this.#maildirs.has(dir)) return { kind: 'maildirKeywords', maildir: dir };
    if (metaFile.test(base)) return { kind: 'ignored' };
    return { kind: 'other' };
  }

  maildirs(): string[] {
    return [...this.#maildirs].sort();
  }

  /** A maildir's mailbox: its path; a Maildir++ dot folder (".Sent", ".Archive.2020") is named by its dots, and the folder holding such is INBOX, as in Dovecot's default layout. */
  maildirMailbox(maildir: string): string {
    const base = basename(maildir);
    if (base.length > 1 && base.startsWith('.')) return nfc(decodeMutf7(base.slice(1)).split('.').join(sep));
    if (maildir === '' || [...this.#maildirs].some((m) => dirname(m) === maildir && basename(m).startsWith('.'))) return 'INBOX';
    return nfc(maildir.split('/').map(decodeLevel).join(sep));
  }
}

/** An mbox file's mailbox: its path without ".mbox"; Thunderbird's ".sbd" folders are its subfolders. */
export function mboxMailbox(path: string): string {
  const levels = path.split('/');
  const last = levels.length - 1;
  return nfc(levels.map((c, i) => decodeLevel(i === last ? c.replace(/\.mbox$/i, '') : c.replace(/\.sbd$/i, ''))).join(sep));
}

/** macOS archives name files in NFD; mailbox names are NFC (RFC 5198 §2). */
function nfc(name: string): string {
  return name.normalize('NFC');
}
