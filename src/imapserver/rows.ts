// Reading message rows for commands that need only metadata (UIDs, flags, MODSEQs, dates,
// sizes): the store's messageMeta skips the MIME index.
import type { Account, MessageMeta, MessageQuery } from '../store/index.ts';

export async function messageMeta(store: Account, mailbox: string, query?: MessageQuery): Promise<MessageMeta[]> {
  return store.messageMeta(mailbox, query);
}
