// What a TLS connection tells the protocols above it: the client's public-key identity
// (for SASL EXTERNAL), channel-binding data (for SCRAM-*-PLUS) and a description for
// Received headers.
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

/** base64url(SHA-256(SubjectPublicKeyInfo DER)): the identity of a TLS public key; names, dates and chain are not used. */
export function publicKeyFingerprint(certOrKey: X509Certificate | KeyObject): string {
  const key = certOrKey instanceof X509Certificate ? certOrKey.publicKey : certOrKey.type === 'private' ? createPublicKey(certOrKey) : certOrKey;
  const spki = key.export({ type: 'spki', format: 'der' }); // RFC 5280 §4.1.2.7 SubjectPublicKeyInfo
  return createHash('sha256').update(spki).digest('base64url');
}

/** The fingerprint of the client certificate's public key, or undefined when the peer sent none. */
export function clientKeyFingerprint(socket: TLSSocket): string | undefined {
  const cert = socket.getPeerX509Certificate();
  return cert ? publicKeyFingerprint(cert) : undefined;
}

/**
 * Channel-binding data of the connection, or undefined where the type is not defined for
 * it. `side` is the end this socket is (the server unless said otherwise).
 * - tls-exporter (RFC 9266 §2): 32 bytes exported with label "EXPORTER-Channel-Binding"
 *   and an empty context. Offered for TLS 1.3 only: for TLS 1.2 it needs the extended
 *   master secret (RFC 9266 §4.2), which node:tls does not let us confirm.
 * - tls-unique (RFC 5929 §3.1): the first Finished message of the latest handshake: the
 *   client's in a full handshake, the server's in a resumed one. Not defined for TLS 1.3
 *   (RFC 9266 §1).
 */
export function channelBinding(socket: TLSSocket, type: 'tls-unique' | 'tls-exporter', side: 'server' | 'client' = 'server'): Buffer | undefined {
  const version = socket.getProtocol();
  if (type === 'tls-exporter') return version === 'TLSv1.3' ? socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)) : undefined;
  if (version !== 'TLSv1.2') return undefined;
  const clientFinishedFirst = !socket.isSessionReused(); // RFC 5929 §3.1; RFC 5246 §7.3: in an abbreviated handshake the server sends Finished first
  return clientFinishedFirst === (side === 'server') ? socket.getPeerFinished() : socket.getFinished();
}

/** Protocol and cipher for Received headers (RFC 8314 §4.3 suggests recording them), e.g. "TLS1.3 TLS_AES_128_GCM_SHA256". */
export function describeTls(socket: TLSSocket): string {
  const version = (socket.getProtocol() ?? 'TLS').replace(/^TLSv/, 'TLS');
  const cipher = socket.getCipher();
  return `${version} ${cipher.standardName ?? cipher.name}`;
}
