// Maildir file names and Dovecot's keyword file: flags in the "2," info of a file name
// (https://cr.yp.to/proto/maildir.html), keywords as letters a-z listed in each maildir's
// dovecot-keywords file (Dovecot: lines "<index> <keyword>", index 0 is letter a).
import type { MessageMeta, SystemFlag } from '../store/index.ts';
import { maildirFlagLetters, passedKeyword } from './flags.ts';
import { isKeyword } from '../store/index.ts';

export const keywordsFileName = 'dovecot-keywords';
const maxKeywordLetters = 26; // a-z

/** The keywords of a mailbox that get letters: the most used first, at most 26 (what a maildir file name can carry). */
export function keywordLetters(messages: readonly MessageMeta[]): { keywords: string[]; dropped: number } {
  const counts = new Map<string, number>();
  for (const m of messages) for (const k of m.keywords) counts.set(k, (counts.get(k) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k);
  return { keywords: sorted.slice(0, maxKeywordLetters), dropped: Math.max(0, sorted.length - maxKeywordLetters) };
}

export function formatKeywordsFile(keywords: readonly string[]): Buffer {
  return Buffer.from(keywords.map((k, i) => `${i} ${k}\n`).join(''));
}

/** Index (letter a = 0) to keyword; lines that are not "<index> <keyword>" are ignored, as Dovecot does. */
export function parseKeywordsFile(data: Buffer): Map<number, string> {
  const map = new Map<number, string>();
  for (const line of data.toString('utf8').split('\n')) {
    const m = /^(\d+) (\S+)\s*$/.exec(line);
    if (m && Number(m[1]) < maxKeywordLetters && isKeyword(m[2]!)) map.set(Number(m[1]), m[2]!);
  }
  return map;
}

/** A unique file name in Dovecot's style: <seconds>.M<uid>P<uidvalidity>.<host>,S=<size>:2,<flags>. S= lets Dovecot skip a stat. */
export function maildirFileName(m: MessageMeta, uidValidity: number, keywords: readonly string[]): string {
  let info = maildirFlagLetters.filter(([, f]) => m.flags.includes(f)).map(([l]) => l).join('');
  info += m.keywords.map((k) => keywords.indexOf(k)).filter((i) => i >= 0).sort((a, b) => a - b).map((i) => String.fromCharCode(97 + i)).join('');
  const seconds = Math.max(0, Math.floor(m.internalDate.getTime() / 1000));
  return `${seconds}.M${m.uid}P${uidValidity}.mailcove,S=${m.size}:2,${info}`;
}

export interface MaildirInfo {
  flags: SystemFlag[];
  keywordIndexes: number[]; // letters a-z as 0-25
  passed: boolean; // P: forwarded
  seconds: number | undefined; // the delivery time at the start of the name, if any
}

/** Reads the flags of a maildir file name. ":" separates the info; ";" and "!" are used where ":" is not allowed in names (Windows copies, mutt's maildir_field_delimiter). */
export function parseMaildirFileName(base: string): MaildirInfo {
  const info: MaildirInfo = { flags: [], keywordIndexes: [], passed: false, seconds: undefined };
  const t = /^(\d{9,11})\./.exec(base);
  if (t) info.seconds = Number(t[1]);
  const m = /[:;!]2,([A-Za-z]*)$/.exec(base);
  if (!m) return info; // files in new/ have no info yet
  for (const c of m[1]!) {
    const flag = maildirFlagLetters.find(([l]) => l === c)?.[1];
    if (flag && !info.flags.includes(flag)) info.flags.push(flag);
    else if (c === 'P') info.passed = true;
    else if (c >= 'a' && c <= 'z') info.keywordIndexes.push(c.charCodeAt(0) - 97);
  }
  return info;
}

/** The keywords of a file's letters, through its maildir's dovecot-keywords; P adds $Forwarded. Letters without an entry are ignored, as Dovecot does. */
export function maildirKeywords(info: MaildirInfo, letters: ReadonlyMap<number, string> | undefined): string[] {
  const keywords: string[] = [];
  for (const i of info.keywordIndexes) {
    const k = letters?.get(i);
    if (k !== undefined && !keywords.includes(k)) keywords.push(k);
  }
  if (info.passed && !keywords.includes(passedKeyword)) keywords.push(passedKeyword);
  return keywords;
}
