// The shapes shared by the SASL mechanisms: what the protocol server provides, one step
// of an exchange, the typed error, and small helpers for reading client responses.
import type { StoredCredentials } from './credentials.ts';

/** What the protocol server knows about the connection, and how to find accounts. */
export interface SaslContext {
  /** Finds credentials for a login name as the client sent it (an account name or an email address). */
  lookup(username: string): Promise<{ account: string; credentials: StoredCredentials } | undefined>;
  /** Present when the connection is TLS. */
  tls?: {
    version: string;
    /** Channel binding data (RFC 5929 tls-unique, RFC 9266 tls-exporter); undefined where not available. */
    channelBinding(type: 'tls-unique' | 'tls-exporter'): Buffer | undefined;
    /** base64url(sha256(SPKI)) of the client certificate, if one was presented. */
    clientKeyFingerprint?: string;
  };
  /** Finds the account for a TLS client public key (EXTERNAL). */
  lookupPublicKey?(fingerprint: string): Promise<{ account: string; loginAddress: string } | undefined>;
  /** Host name for the CRAM-MD5 challenge (RFC 2195 §2 msg-id). */
  hostname?: string;
  /** Tests: the server nonce for SCRAM (RFC 5802 examples). */
  nonce?: () => string;
}

export type SaslStep =
  | { kind: 'challenge'; data: Buffer }
  | { kind: 'success'; account: string; username: string; data?: Buffer };

export interface SaslExchange {
  /** Feeds the next client response (base64-decoded); undefined when the client sent no initial response. */
  step(response: Buffer | undefined): Promise<SaslStep>;
}

export type SaslErrorKind = 'malformed' | 'authfailed' | 'unsupported' | 'aborted' | 'temporary';

/** A failed exchange. Messages are safe to log: they never hold secrets. */
export class SaslError extends Error {
  override name = 'SaslError';
  readonly kind: SaslErrorKind;
  constructor(kind: SaslErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

export function isSaslError(e: unknown): e is SaslError {
  return e instanceof SaslError;
}

export const maxResponse = 8 * 1024;

/** Longest line a protocol server reads for one SASL response: base64 of maxResponse, with room (RFC 4954 §4, RFC 9051 §6.2.2). */
export const maxResponseLine = 12 * 1024;

const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Whether a client's response line is strict base64 (RFC 4648 §4, padded). */
export function isBase64(text: string): boolean {
  return base64.test(text);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A client response as UTF-8 text, bounded. */
export function text(b: Buffer): string {
  if (b.length > maxResponse) throw new SaslError('malformed', 'response too long');
  try {
    return utf8.decode(b);
  } catch {
    throw new SaslError('malformed', 'response is not UTF-8');
  }
}

/** The credentials for a login name; a failing lookup is a temporary error, not a failed login. */
export async function lookup(ctx: SaslContext, username: string): Promise<{ account: string; credentials: StoredCredentials } | undefined> {
  try {
    return await ctx.lookup(username);
  } catch (e) {
    throw new SaslError('temporary', `account lookup failed: ${(e as Error).message}`);
  }
}
