// What an IMAP session needs from the rest of the server: store, live configuration,
// limits, timeouts and the registries shared by all sessions. Built once (start.ts).
import type { DomainsConfig } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import type { TlsConfig } from '../tls/index.ts';
import type { AuthFailureLimiter } from '../sasl/index.ts';
import type { RecentRegistry } from './recent.ts';

export type ImapService = 'imap' | 'imaps';

export interface ImapLimits {
  maxLine: number; // one command line, without literals
  maxCommand: number; // a command's text plus non-message literals
  maxMessage: number; // APPENDLIMIT (RFC 7889) = mailcove.conf limits.maxMessageSize
  memoryLiteral: number; // message literals up to this size stay in memory
  maxConnectionsPerIP: number; // 0: no limit (localserve)
  maxErrors: number; // BAD responses per connection before BYE
}

export interface ImapTimeouts {
  preAuthMs: number; // before login: short (RFC 9051 §5.4 sets no minimum here)
  idleMs: number; // RFC 9051 §5.4: at least 30 minutes after login, also in IDLE (RFC 2177 §3)
}

export interface ImapContext {
  hostname: string;
  store: Store;
  domains: () => DomainsConfig;
  spoolDir: string; // large literals while APPEND reads them; same file system as the data directory
  limits: ImapLimits;
  timeouts: ImapTimeouts;
  authFailures: AuthFailureLimiter;
  recent: RecentRegistry;
  /** localserve: LOGIN and plaintext AUTHENTICATE allowed on loopback without TLS. */
  localserve: boolean;
}

export interface ImapListener {
  service: ImapService;
  hostname: string;
  tls: TlsConfig | undefined; // STARTTLS (imap) or implicit TLS (imaps)
}
