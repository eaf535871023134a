// NOTIFY (RFC 5465): which events of which mailboxes a session wants told as they happen.
import type { ChangeEvent } from '../store/index.ts';
import type { Session } from './session.ts';

export interface NotifySpec {
  /** Called for every change event while NOTIFY is set; sends what the client asked for about other mailboxes. */
  onEvent(s: Session, ev: ChangeEvent): void;
}
