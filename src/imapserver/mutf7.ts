// Modified UTF-7 mailbox names (RFC 3501 §5.1.3), shared with the importer (src/mime): a
// malformed name is a BAD here.
import { decodeMutf7 as decode, Mutf7Error } from '../mime/index.ts';
import { bad } from './errors.ts';

export { encodeMutf7, decodeMutf7Lenient } from '../mime/index.ts';

/** Decodes a modified UTF-7 name; malformed input is a BAD (RFC 3501 §5.1.3). */
export function decodeMutf7(name: string): string {
  try {
    return decode(name);
  } catch (e) {
    if (e instanceof Mutf7Error) throw bad(e.message);
    throw e;
  }
}
