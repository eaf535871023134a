// How the store's flags and keywords are written in mbox headers and maildir file names,
// and read back. The letters follow Dovecot and mutt, which both read and write them.
import type { SystemFlag } from '../store/index.ts';

/** Maildir info flags (https://cr.yp.to/proto/maildir.html, "2," info), in the ASCII order a file name lists them. */
export const maildirFlagLetters: ReadonlyArray<readonly [letter: string, flag: SystemFlag]> = [
  ['D', '\\Draft'],
  ['F', '\\Flagged'],
  ['R', '\\Answered'], // "replied"
  ['S', '\\Seen'],
  ['T', '\\Deleted'], // "trashed"
];

/** Maildir's P ("passed": resent, forwarded or bounced) has no IMAP system flag; IMAP clients use this keyword. */
export const passedKeyword = '$Forwarded';

/** mbox X-Status letters as mutt and Dovecot write them; Status: R is \Seen and O is "not new". */
export const xStatusLetters: ReadonlyArray<readonly [letter: string, flag: SystemFlag]> = [
  ['A', '\\Answered'],
  ['F', '\\Flagged'],
  ['T', '\\Draft'],
  ['D', '\\Deleted'],
];

