// A listener's TLS: certificates from files, a kept self-signed one, or ACME (acmelistener.ts),
// chosen by SNI (RFC 6066 §3), TLS 1.2 or newer (RFC 8996), client certificates requested but
// never verified (their public key is an identity for SASL EXTERNAL, not a chain to a CA).
import { mkdir, readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { createSecureContext, type SecureContext, type SecureContextOptions, type TlsOptions } from 'node:tls';
import { writeFileAtomic, type Listener } from '../config/index.ts';
import { logger } from '../log/index.ts';
import { makeSelfSigned } from './selfsigned.ts';
import { AcmeListenerTls, acmeSource } from './acmelistener.ts';

const log = logger('tls');

/** A TLS setup that cannot be used: missing or unreadable files, a key not matching its certificate, an ACME provider not loaded. */
export class TlsError extends Error {
  override name = 'TlsError';
}

export interface TlsConfig {
  /** SNICallback-ready: chooses the certificate by server name; falls back to the default (hostname's). */
  sniCallback(servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void;
  /**
   * Options for tls.createServer / new TLSSocket(…, { isServer: true, … }). `alpn`: the
   * protocols the service speaks, in preference order (RFC 7301), e.g. ['http/1.1'] for
   * HTTPS; with ACME, only such a listener answers tls-alpn-01 challenges (RFC 8737).
   */
  serverOptions(o?: ServerOptionsRequest): TlsOptions;
  /** Calls fn when the default certificate (for clients without SNI) changes, e.g. an ACME renewal; returns the unsubscriber. */
  onDefaultChange?(fn: () => void): () => void;
  close(): void;
}

/**
 * Keeps a server made once (implicit TLS: submissions, imaps, HTTPS) serving the current
 * default certificate to clients that send no SNI (RFC 6066 §3 makes it optional), whose
 * handshakes never reach the SNI callback. Returns the unsubscriber.
 */
export function keepDefaultCertificate(server: { setSecureContext(o: SecureContextOptions): void }, tls: TlsConfig, o?: ServerOptionsRequest): () => void {
  return tls.onDefaultChange?.(() => server.setSecureContext(tls.serverOptions(o))) ?? (() => {});
}

export interface ServerOptionsRequest {
  alpn?: readonly string[];
}

interface KeyCert {
  cert: X509Certificate; // the leaf, for name matching
  keyPEM: string;
  certPEM: string; // chain, leaf first
  context: SecureContext;
}

class ListenerTls implements TlsConfig {
  readonly #keyCerts: KeyCert[];
  readonly #default: KeyCert;
  readonly #minVersion: 'TLSv1.2' | 'TLSv1.3';

  constructor(keyCerts: KeyCert[], hostname: string, minVersion: 'TLSv1.2' | 'TLSv1.3') {
    this.#keyCerts = keyCerts;
    this.#default = keyCerts.find((k) => k.cert.checkHost(hostname) !== undefined) ?? keyCerts[0]!;
    this.#minVersion = minVersion;
    this.sniCallback = this.sniCallback.bind(this);
  }

  sniCallback(servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void {
    const name = servername.toLowerCase().replace(/\.$/, '');
    const match = this.#keyCerts.find((k) => k.cert.checkHost(name) !== undefined); // RFC 6125 §6.4: DNS-ID, one-label wildcards
    cb(null, (match ?? this.#default).context);
  }

  serverOptions(o: ServerOptionsRequest = {}): TlsOptions {
    return {
      key: this.#default.keyPEM,
      cert: this.#default.certPEM,
      minVersion: this.#minVersion, // RFC 8996: never TLS 1.0/1.1
      requestCert: true, // client certificates for SASL EXTERNAL
      rejectUnauthorized: false, // their chains are not checked: the public key is the identity
      SNICallback: this.sniCallback,
      ...(o.alpn ? { ALPNProtocols: [...o.alpn] } : {}),
    };
  }

  close(): void {
    // Nothing held open.
  }
}

function keyCert(keyPEM: string, certPEM: string, what: string): KeyCert {
  let cert: X509Certificate;
  let context: SecureContext;
  try {
    cert = new X509Certificate(certPEM);
    context = createSecureContext({ key: keyPEM, cert: certPEM });
  } catch (e) {
    throw new TlsError(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return { cert, keyPEM, certPEM, context };
}

async function readKeyCert(configDir: string, f: { certFile: string; keyFile: string }): Promise<KeyCert> {
  const path = (p: string): string => (isAbsolute(p) ? p : join(configDir, p));
  let certPEM: string;
  let keyPEM: string;
  try {
    [certPEM, keyPEM] = await Promise.all([readFile(path(f.certFile), 'utf8'), readFile(path(f.keyFile), 'utf8')]);
  } catch (e) {
    throw new TlsError(`reading ${f.certFile} / ${f.keyFile}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return keyCert(keyPEM, certPEM, `${f.certFile} with ${f.keyFile}`); // createSecureContext fails on a key that does not match
}

const unspecified = new Set(['0.0.0.0', '::']);
const selfSignedDays = 3650;
const making = new Map<string, Promise<KeyCert>>(); // one maker per file pair, when listeners start together

/** The self-signed certificate kept in <dataDir>/tls/: made once, made again only when it does not cover the names or is about to expire. */
function selfSigned(dataDir: string, hostname: string, ips: string[]): Promise<KeyCert> {
  const dir = join(dataDir, 'tls');
  const base = join(dir, `selfsigned-${hostname.toLowerCase()}`);
  const pending = making.get(base);
  if (pending) return pending;
  const names = [...new Set([hostname.toLowerCase(), 'localhost'])];
  const addrs = ips.filter((ip) => !unspecified.has(ip));
  const p = (async () => {
    try {
      const [keyPEM, certPEM] = await Promise.all([readFile(`${base}.key.pem`, 'utf8'), readFile(`${base}.crt.pem`, 'utf8')]);
      const kc = keyCert(keyPEM, certPEM, `${base}.crt.pem`);
      const covers = names.every((n) => kc.cert.checkHost(n) !== undefined) && addrs.every((ip) => kc.cert.checkIP(ip) !== undefined);
      if (covers && new Date(kc.cert.validTo).getTime() > Date.now() + 30 * 24 * 60 * 60 * 1000) return kc;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err: e, base }, 'self-signed certificate unusable, making a new one');
    }
    const made = await makeSelfSigned({ names, ips: addrs, days: selfSignedDays, keyType: 'ecdsa-p256' });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Each file fsynced and renamed into place; a crash between the two leaves a pair that does not match, made again above.
    await writeFileAtomic(`${base}.key.pem`, made.keyPEM, 0o600);
    await writeFileAtomic(`${base}.crt.pem`, made.certPEM, 0o644);
    log.info({ hostname, ips: addrs, file: `${base}.crt.pem` }, 'made self-signed certificate');
    return keyCert(made.keyPEM, made.certPEM, `${base}.crt.pem`);
  })();
  making.set(base, p);
  void p.then(() => making.delete(base), () => making.delete(base));
  return p;
}

/**
 * Loads a listener's TLS config: keyCerts files (relative to configDir), a self-signed
 * certificate kept in <dataDir>/tls/ (ECDSA P-256; names: hostname, localhost and the
 * listener's IPs; 10 years), or the certificates of an ACME provider, whose manager must be
 * loaded first (loadAcme in src/acme registers it) with the listener's hostname among its names.
 */
export async function loadListenerTls(o: { tls: NonNullable<Listener['tls']>; hostname: string; ips: string[]; configDir: string; dataDir: string }): Promise<TlsConfig> {
  let keyCerts: KeyCert[];
  if (o.tls.keyCerts) keyCerts = await Promise.all(o.tls.keyCerts.map((f) => readKeyCert(o.configDir, f)));
  else if (o.tls.selfSigned) keyCerts = [await selfSigned(o.dataDir, o.hostname, o.ips)];
  else {
    const provider = o.tls.acme ?? '';
    const acme = acmeSource(o.dataDir, provider);
    if (!acme) throw new TlsError(`acme: provider ${JSON.stringify(provider)} is not loaded`);
    if (!acme.allowed(o.hostname)) throw new TlsError(`acme: ${o.hostname} is not among the names of provider ${JSON.stringify(provider)}`);
    return new AcmeListenerTls(acme, o.hostname, o.tls.minVersion);
  }
  return new ListenerTls(keyCerts, o.hostname, o.tls.minVersion);
}
