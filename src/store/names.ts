// Mailbox and account names: what is allowed and how INBOX is spelled.
import { StoreError } from './errors.ts';
import { hierarchySeparator } from './types.ts';

export const maxMailboxNameLength = 1000;

/** The canonical spelling of a mailbox name: INBOX is case-insensitive, also as a parent (RFC 9051 §5.1). */
export function canonicalMailboxName(name: string): string {
  const sep = name.indexOf(hierarchySeparator);
  const first = sep < 0 ? name : name.slice(0, sep);
  return first.toUpperCase() === 'INBOX' ? 'INBOX' + name.slice(first.length) : name;
}

/** Checks a mailbox name and returns its canonical form. */
export function checkMailboxName(name: string): string {
  if (name.length === 0 || name.length > maxMailboxNameLength) throw new StoreError('BADNAME', 'mailbox name must be 1..1000 characters');
  if (/[\x00-\x1f\x7f]/.test(name)) throw new StoreError('BADNAME', 'mailbox name has control characters'); // RFC 9051 §5.1
  if (name.split(hierarchySeparator).some((p) => p === '')) throw new StoreError('BADNAME', 'mailbox name has an empty hierarchy level');
  if (name.normalize('NFC') !== name) throw new StoreError('BADNAME', 'mailbox name is not in Unicode NFC'); // RFC 5198 §2, RFC 9051 §5.1
  return canonicalMailboxName(name);
}

/** The superior names of a mailbox name, outermost first ("a/b/c" -> "a", "a/b"). */
export function parentNames(name: string): string[] {
  const parts = name.split(hierarchySeparator);
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join(hierarchySeparator));
}

/** Account names are directory names: a conservative character set, no dot first. */
export function checkAccountName(name: string): void {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,127}$/.test(name)) throw new StoreError('BADNAME', `bad account name: ${JSON.stringify(name)}`);
}
