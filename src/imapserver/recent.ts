// \Recent (RFC 3501 §2.3.2) for IMAP4rev1 sessions: a message is recent in exactly one
// session, the first that selects its mailbox read-write after the message arrived. The
// registry remembers, per account and mailbox, the highest UID some session has claimed.
// It lives in memory: after a restart, messages present then count as recent once more.
export class RecentRegistry {
  readonly #claimed = new Map<string, number>();

  /** The highest UID some session claimed (0: none): messages above it are recent for whoever selects next (EXAMINE and STATUS look without claiming). */
  claimed(account: string, mailbox: string, uidValidity: number): number {
    return this.#claimed.get(`${account}\0${mailbox}\0${uidValidity}`) ?? 0;
  }

  /** Claims UIDs above the last claimed one, up to `upTo`; returns the first UID now recent for the caller (0 if none). */
  claim(account: string, mailbox: string, uidValidity: number, upTo: number): number {
    const key = `${account}\0${mailbox}\0${uidValidity}`;
    const prev = this.#claimed.get(key) ?? 0;
    if (upTo <= prev) return 0;
    this.#claimed.set(key, upTo);
    return prev + 1;
  }
}
