// Searching the rows of one mailbox: a pass over the rows alone (flags, UIDs, sizes, dates,
// MODSEQ) decides most messages; the undecided ones are read in chunks of rows with their
// MIME index, each message's header first and its text only when the header did not decide.
import type { Account, MessageMeta } from '../../store/index.ts';
import { isStoreError } from '../../store/index.ts';
import type { MessageIndex } from '../../mime/index.ts';
import { contentNeeds, type ContentNeeds, type SearchKey } from './keys.ts';
import { evaluate, type Facts, type SearchContext } from './match.ts';
import { readHeader, scanText, storeReader, type ReadRange } from './content.ts';
import { MailboxView } from '../view.ts';

const chunkRows = 200; // rows with MIME index read at once: bounds memory, and keeps queries few
const parallelReads = 8; // messages whose content is read at the same time (half the libuv pool main.ts sets)

/** Told after each message read for content: how many were read and how many need reading (RFC 9585 INPROGRESS). */
export type Progress = (done: number, goal: number) => Promise<void>;

/** Decides one message with its content: the row, then the header block if needed, then the text if still needed. */
export async function decide(key: SearchKey, ctx: SearchContext, needs: ContentNeeds, row: MessageMeta, index: MessageIndex, read: ReadRange): Promise<boolean> {
  const facts: Facts = { row };
  let r = evaluate(key, facts, ctx);
  if (r === null && needs.header) {
    facts.header = await readHeader(read, index);
    r = evaluate(key, facts, ctx);
  }
  if (r === null) {
    facts.text = await scanText(read, index, needs, facts.header);
    r = evaluate(key, facts, ctx);
  }
  return r === true;
}

/** The rows that match, ascending by UID. `rows` ascending by UID. */
export async function searchRows(store: Account, mailbox: string, rows: readonly MessageMeta[], key: SearchKey, ctx: SearchContext, progress?: Progress): Promise<MessageMeta[]> {
  const matched: MessageMeta[] = [];
  const undecided: MessageMeta[] = [];
  for (const row of rows) {
    const r = evaluate(key, { row }, ctx);
    if (r === true) matched.push(row);
    else if (r === null) undecided.push(row);
  }
  if (undecided.length === 0) return matched;
  const needs = contentNeeds(key);
  let done = 0;
  for (let i = 0; i < undecided.length; i += chunkRows) {
    const chunk = undecided.slice(i, i + chunkRows);
    // Fresh rows: a message expunged meanwhile is simply absent, and flags are as of now.
    const fulls = await store.messages(mailbox, { uids: MailboxView.toUidSet(chunk.map((r) => r.uid)) }); // chunk is ascending
    // Several messages are read at once: each read waits on the file system (libuv pool), not on the CPU.
    for (let j = 0; j < fulls.length; j += parallelReads) {
      const group = fulls.slice(j, j + parallelReads);
      const results = await Promise.all(group.map(async (full) => {
        try {
          return await decide(key, ctx, needs, full, full.mimeIndex, storeReader(store, full.messageId));
        } catch (e) {
          if (!isStoreError(e, 'NONEXISTENT')) throw e;
          return false; // the message file went with its last copy while we searched: expunged, matches nothing
        }
      }));
      group.forEach((full, k) => {
        if (!results[k]) return;
        const { mimeIndex: _index, ...meta } = full; // the index is not kept: many matches stay small
        matched.push(meta);
      });
      for (let k = 0; k < group.length; k++) if (progress) await progress(++done, undecided.length);
    }
  }
  return matched.sort((a, b) => a.uid - b.uid);
}
