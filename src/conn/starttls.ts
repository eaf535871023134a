// The server side of STARTTLS (RFC 3207 for SMTP, RFC 9051 §6.2.1 for IMAP): a TLS
// handshake over an accepted plaintext socket.
import type { Socket } from 'node:net';
import { TLSSocket, type TlsOptions } from 'node:tls';

/** Runs the handshake; the secure socket, or the error that ended it (both sockets are then destroyed). */
export async function serverHandshake(plain: Socket | TLSSocket, options: TlsOptions): Promise<TLSSocket | Error> {
  const secure = new TLSSocket(plain, { ...options, isServer: true });
  try {
    await new Promise<void>((resolve, reject) => {
      secure.once('secure', resolve);
      secure.once('error', reject);
      secure.once('close', () => reject(new Error('closed during handshake')));
    });
    return secure;
  } catch (e) {
    secure.destroy();
    plain.destroy();
    return e instanceof Error ? e : new Error(String(e));
  }
}
