// Archive paths and mailbox names: the folders of an archive are the mailbox hierarchy
// (the store's separator is "/", so a path is the name). Importing sees every path first,
// to tell maildirs (folders with cur/new/tmp, Maildir++ dot folders) from mbox files.
import { hierarchySeparator } from '../store/index.ts';
import { decodeMutf7Lenient } from '../mime/index.ts';

const sep = hierarchySeparator;

/** The archive path of a mailbox. "%" and a leading "." of a level are escaped, so that a level is never a dot folder (Maildir++) or "." / "..". */
export function mailboxPath(name: string): string {
  return name.split(sep).map((c) => c.replace(/%/g, '%25').replace(/^\./, '%2E')).join('/');
}

/** Undoes mailboxPath's escapes only, so that other archives' names keep their "%". */
function decodeLevel(c: string): string {
  return c.replace(/%(25|2E)/gi, (_, h: string) => (h === '25' ? '%' : '.'));
}

/** A path as archives write it, made comparable: "/" separators (APPNOTE 4.4.17.1), no leading "./" or "/", no empty or "." levels. */
export function normalizePath(path: string): string {
  return path.replace(/\\/g, '/').split('/').filter((c) => c !== '' && c !== '.').join('/');
}

/** Longest archive path imported: room for a mailbox name (the store allows 1000 characters), "/cur/" and a file name (NAME_MAX 255). */
const maxPathLength = 2048;

/**
 * Why a (normalized) archive path is not imported, or undefined. Paths name mailboxes, so a
 * ".." level (zip-slip) is refused and reported, not resolved or dropped as GNU tar and unzip
 * do (that would merge its mail into another mailbox unseen); a NUL, where C tools end a
 * name, cannot hide part of one.
 */
export function pathProblem(path: string): string | undefined {
  if (path.length > maxPathLength) return `path longer than ${maxPathLength} characters: not imported`;
  if (path.includes('\0')) return 'path with a NUL character: not imported';
  if (path.split('/').includes('..')) return 'path with a ".." level: not imported (it would name a mailbox outside the archive\'s folders)';
  return undefined;
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

type PathKind =
  | { kind: 'maildirMessage'; maildir: string } // a file in cur/ or new/
  | { kind: 'ignored' } // not mail: tmp/ (deliveries in progress, cr.yp.to/proto/maildir.html), indexes, dovecot-keywords (read in the first pass), dot files, macOS resource forks
  | { kind: 'other' }; // an mbox file, if its content says so

export class ArchiveLayout {
  readonly #maildirs = new Set<string>(); // '' is the archive's top folder
  readonly #dotParents = new Set<string>(); // folders holding Maildir++ dot folders (".Sent"): their own mail is INBOX

  /** Notes a path during the first pass; directories matter too (an empty maildir has only them). */
  add(path: string, isDir: boolean): void {
    const dir = isDir ? path : dirname(path);
    if (!maildirSubdirs.has(basename(dir))) return;
    const maildir = dirname(dir); // "X/cur" makes X a maildir, "cur" the top folder
    this.#maildirs.add(maildir);
    if (basename(maildir).startsWith('.')) this.#dotParents.add(dirname(maildir));
  }

  classify(path: string): PathKind {
    const base = basename(path);
    const dir = dirname(path);
    if (base.startsWith('.') || path.split('/').includes('__MACOSX')) return { kind: 'ignored' };
    if (/\.mbox$/i.test(base)) return { kind: 'other' }; // also below a level named cur or new: "Lists/new/Weekly.mbox"
    const sub = basename(dir);
    if (sub === 'cur' || sub === 'new') return { kind: 'maildirMessage', maildir: dirname(dir) };
    if (sub === 'tmp' && this.#maildirs.has(dirname(dir))) return { kind: 'ignored' };
    if (metaFile.test(base)) return { kind: 'ignored' };
    return { kind: 'other' };
  }

  maildirs(): string[] {
    return [...this.#maildirs].sort();
  }

  /** A maildir's mailbox: its path; a Maildir++ dot folder (".Sent", ".Archive.2020") is named by its dots, and the folder holding such is INBOX, as in Dovecot's default layout. */
  maildirMailbox(maildir: string): string {
    const base = basename(maildir);
    if (base.length > 1 && base.startsWith('.')) return nfc(decodeMutf7Lenient(base.slice(1)).split('.').join(sep));
    if (maildir === '' || this.#dotParents.has(maildir)) return 'INBOX';
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
