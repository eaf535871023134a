// Placeholder surface until the MIME index lands (see issue 2): the store calls this at
// delivery to index a message file.
import { stat } from 'node:fs/promises';

/** JSON-serialisable index of a message: the MIME part tree with byte offsets. */
export interface MessageIndex {
  size: number;
}

export async function indexMessageFile(path: string): Promise<MessageIndex> {
  return { size: (await stat(path)).size };
}
