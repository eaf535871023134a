// The SCRAM client (RFC 5802 §3, §5; SHA-256: RFC 7677) that `mailcove sendmail` logs in
// with and the protocol servers' tests use: computes client-first and client-final, checks
// the server-first it answers (our nonce extended, salt, iteration count, no mandatory
// extension) and the server signature, so a server that does not know the password is
// caught. The caller carries the messages over its protocol (SMTP AUTH, IMAP AUTHENTICATE).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { normalizePassword, scramKeys, scramSaltedPassword, type ScramHash } from './credentials.ts';
import { SaslError } from './context.ts';

export interface ScramClient {
  first(): string;
  /** client-final for the server-first; throws SaslError when the server-first is not one we can answer. */
  final(serverFirst: Buffer): Promise<string>;
  /** Whether server-final proves the server knows the credentials; throws SaslError for the server's "e=" error. */
  verify(serverFinal: Buffer): boolean;
}

export interface ScramClientOptions {
  hash: ScramHash;
  username: string;
  password: string;
  /** For the -PLUS mechanisms: gs2 "p=type" and the binding data of this connection. */
  channelBinding?: { type: 'tls-exporter' | 'tls-unique'; data: Buffer };
  /** Without channelBinding: we could bind but the server offered no -PLUS mechanism, gs2 "y" instead of "n" (RFC 5802 §6), so a server that did offer it sees the downgrade. */
  couldBind?: boolean;
  nonce?: string; // tests: the client nonce of an RFC example
  authzid?: string;
}

/** The highest iteration count we compute: PBKDF2 at this count takes seconds; more is a server wasting our time. */
export const maxScramIterations = 10_000_000;

const printableNonce = /^[\x21-\x2b\x2d-\x7e]+$/; // RFC 5802 §5.1 printable, without ","
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** saslname (RFC 5802 §5.1): "=" and "," escaped. */
function saslname(s: string): string {
  return s.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

/** r=, s= and i= of a server-first message (RFC 5802 §5.1, §7 server-first-message). */
function parseServerFirst(serverFirst: string, clientNonce: string): { nonce: string; salt: Buffer; iterations: number } {
  if (serverFirst.startsWith('m=')) throw new SaslError('unsupported', 'the server requires an extension we do not know'); // RFC 5802 §5.1 m=: the client MUST fail
  const m = /^r=([^,]*),s=([^,]*),i=([^,]*)(?:,.*)?$/s.exec(serverFirst);
  if (!m) throw new SaslError('malformed', 'server-first is not r=...,s=...,i=...');
  const [, nonce, salt, count] = m as unknown as [string, string, string, string];
  if (!nonce.startsWith(clientNonce) || nonce.length === clientNonce.length || !printableNonce.test(nonce)) throw new SaslError('malformed', "the server's nonce does not extend ours"); // RFC 5802 §5.1 r=
  if (salt === '' || !base64.test(salt)) throw new SaslError('malformed', 'the salt is not base64'); // RFC 5802 §5.1 s=
  if (!/^[1-9]\d{0,9}$/.test(count) || Number(count) > maxScramIterations) throw new SaslError('malformed', `iteration count ${JSON.stringify(count.slice(0, 20))} is not 1 to ${maxScramIterations}`); // RFC 5802 §5.1 i=
  return { nonce, salt: Buffer.from(salt, 'base64'), iterations: Number(count) };
}

export function scramClient(o: ScramClientOptions): ScramClient {
  const cnonce = o.nonce ?? randomBytes(18).toString('base64');
  const flag = o.channelBinding ? `p=${o.channelBinding.type}` : o.couldBind ? 'y' : 'n'; // RFC 5802 §7 gs2-cbind-flag
  const gs2 = `${flag},${o.authzid ? `a=${saslname(o.authzid)}` : ''},`;
  const bare = `n=${saslname(o.username)},r=${cnonce}`; // todo: SASLprep of the user name (RFC 5802 §5.1); our server looks names up as sent
  let serverSignature: Buffer | undefined;
  return {
    first: () => gs2 + bare,
    async final(serverFirstBuf) {
      const serverFirst = serverFirstBuf.toString('utf8');
      const { nonce, salt, iterations } = parseServerFirst(serverFirst, cnonce);
      const salted = await scramSaltedPassword(o.hash, normalizePassword(o.password), salt, iterations);
      const { clientKey, storedKey, serverKey } = scramKeys(o.hash, salted);
      const withoutProof = `c=${Buffer.concat([Buffer.from(gs2), o.channelBinding?.data ?? Buffer.alloc(0)]).toString('base64')},r=${nonce}`; // RFC 5802 §7 channel-binding
      const authMessage = `${bare},${serverFirst},${withoutProof}`; // RFC 5802 §3
      const signature = createHmac(o.hash, storedKey).update(authMessage).digest();
      serverSignature = createHmac(o.hash, serverKey).update(authMessage).digest();
      return `${withoutProof},p=${Buffer.from(clientKey.map((b, i) => b ^ signature[i]!)).toString('base64')}`;
    },
    verify(serverFinalBuf) {
      const serverFinal = serverFinalBuf.toString('utf8');
      const e = /^e=([^,]*)/.exec(serverFinal);
      if (e) throw new SaslError('authfailed', `the server ended the exchange: ${e[1]!.slice(0, 100)}`); // RFC 5802 §7 server-error
      const v = /^v=([A-Za-z0-9+/=]+)(?:,|$)/.exec(serverFinal); // RFC 5802 §7 verifier
      const got = v ? Buffer.from(v[1]!, 'base64') : Buffer.alloc(0);
      return !!serverSignature && got.length === serverSignature.length && timingSafeEqual(got, serverSignature);
    },
  };
}
