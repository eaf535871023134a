// Failed-login limiting shared by SMTP, IMAP and the web: failures count per IP class
// (src/ratelimit), a failure is answered only after a delay (slows guessing), and a
// network over its limit is refused before it may try again.
import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimiter, type WindowLimit } from '../ratelimit/index.ts';

/** Per minute 10/25/50 failures for /32,/26,/21 (IPv6 /64,/48,/32), per hour 60/150/300: a user mistyping is never stopped, a guesser is. */
export const defaultAuthFailureLimits: readonly WindowLimit[] = [
  { windowMs: 60_000, limits: [10, 25, 50] },
  { windowMs: 3_600_000, limits: [60, 150, 300] },
];

export interface AuthFailureLimiter {
  /** Whether ip may try to log in now. */
  allowed(ip: string): boolean;
  /** Records a failure and waits the failure delay. */
  failed(ip: string): Promise<void>;
  /** A success forgets the host's own failures. */
  succeeded(ip: string): void;
}

export function authFailureLimiter(o: { delayMs?: number; limits?: readonly WindowLimit[] } = {}): AuthFailureLimiter {
  const limiter = new RateLimiter(o.limits ?? defaultAuthFailureLimits);
  const delayMs = o.delayMs ?? 1000;
  return {
    allowed: (ip) => limiter.canAdd(ip),
    async failed(ip) {
      limiter.add(ip);
      if (delayMs > 0) await sleep(delayMs);
    },
    succeeded: (ip) => limiter.reset(ip),
  };
}
