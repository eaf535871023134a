// A listener's TLS from an ACME provider (src/acme, which registers its providers here): by
// SNI the certificate of the name when it is one of the provider's (obtained on demand),
// else the listener host name's; on listeners that speak ALPN, the tls-alpn-01 challenge
// certificate when the CA asks for acme-tls/1 (RFC 8737 §3).
import { resolve } from 'node:path';
import type { SecureContext, TlsOptions } from 'node:tls';
import type { ServerOptionsRequest, TlsConfig } from './listener.ts';

/** The ALPN protocol a CA offers when it validates a tls-alpn-01 challenge (RFC 8737 §6.2). */
const acmeTlsProtocol = 'acme-tls/1';

/** What a listener needs from an ACME provider (implemented by src/acme's AcmeManager). */
export interface AcmeCertificateSource {
  /** Whether the provider gets certificates for this name. */
  allowed(name: string): boolean;
  /** The certificate for an allowed name, obtained first when there is none. */
  certificate(name: string): Promise<{ context: SecureContext }>;
  /** The certificate for a name if there is one, without waiting. */
  cached(name: string): { keyPEM: string; certPEM: string } | undefined;
  /** The challenge certificate while a tls-alpn-01 challenge for the name is pending. */
  challengeContext(name: string): SecureContext | undefined;
  /** Calls fn with the name whenever a new certificate is served for it (obtained or renewed); returns the unsubscriber. */
  onCertificate(fn: (name: string) => void): () => void;
}

const sources = new Map<string, AcmeCertificateSource>(); // by data directory and provider name

function sourceKey(dataDir: string, provider: string): string {
  return `${resolve(dataDir)}\0${provider}`;
}

/** Makes a provider's certificates available to listeners with `tls.acme: <provider>`; returns the unregistering function. */
export function registerAcmeSource(dataDir: string, provider: string, source: AcmeCertificateSource): () => void {
  const key = sourceKey(dataDir, provider);
  sources.set(key, source);
  return () => {
    if (sources.get(key) === source) sources.delete(key);
  };
}

export function acmeSource(dataDir: string, provider: string): AcmeCertificateSource | undefined {
  return sources.get(sourceKey(dataDir, provider));
}

// Connections whose ClientHello asked for acme-tls/1 for a pending challenge. Node calls
// ALPNCallback and SNICallback as methods of the server-side TLSSocket, and with TLS 1.3
// OpenSSL selects the ALPN protocol before the certificate, so the mark is there in time.
const challenged = new WeakSet<object>();

type SniCallback = TlsConfig['sniCallback'];

export class AcmeListenerTls implements TlsConfig {
  readonly #acme: AcmeCertificateSource;
  readonly #hostname: string;
  readonly #minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly sniCallback: SniCallback;

  constructor(acme: AcmeCertificateSource, hostname: string, minVersion: 'TLSv1.2' | 'TLSv1.3') {
    this.#acme = acme;
    this.#hostname = hostname;
    this.#minVersion = minVersion;
    const select = (socket: unknown, servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => this.#select(socket, servername, cb);
    this.sniCallback = function (this: unknown, servername, cb) { // not an arrow: `this` is the connection
      select(this, servername, cb);
    };
  }

  #select(socket: unknown, servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void {
    const name = servername.toLowerCase().replace(/\.$/, '');
    if (typeof socket === 'object' && socket !== null && challenged.has(socket)) {
      const ctx = this.#acme.challengeContext(name);
      if (ctx) cb(null, ctx);
      else cb(new Error(`no tls-alpn-01 challenge pending for ${name}`));
      return;
    }
    const target = this.#acme.allowed(name) ? name : this.#hostname; // other names never cause an order
    this.#acme.certificate(target).then((c) => cb(null, c.context), (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))));
  }

  serverOptions(o: ServerOptionsRequest = {}): TlsOptions {
    // For clients without SNI (Node calls no SNICallback then; Postfix sends none by default): the
    // host name's certificate as of now; servers made once take a new one through onDefaultChange.
    const fallback = this.#acme.cached(this.#hostname);
    const alpn = o.alpn;
    const acme = this.#acme;
    return {
      ...(fallback ? { key: fallback.keyPEM, cert: fallback.certPEM } : {}),
      minVersion: this.#minVersion, // RFC 8996: never TLS 1.0/1.1
      requestCert: true, // client certificates for SASL EXTERNAL
      rejectUnauthorized: false, // their chains are not checked: the public key is the identity
      SNICallback: this.sniCallback,
      ...(alpn
        ? {
            ALPNCallback: function (this: unknown, { servername, protocols }: { servername: string; protocols: string[] }): string | undefined {
              if (protocols.includes(acmeTlsProtocol) && servername && acme.challengeContext(servername) && typeof this === 'object' && this !== null) {
                challenged.add(this);
                return acmeTlsProtocol; // RFC 8737 §3
              }
              // todo: RFC 8737 over TLS 1.2: OpenSSL chooses the certificate before ALPN there, so only TLS 1.3 validators get the challenge certificate.
              return alpn.find((p) => protocols.includes(p)); // our preference; none: no_application_protocol alert (RFC 7301 §3.2)
            },
          }
        : {}),
    };
  }

  onDefaultChange(fn: () => void): () => void {
    return this.#acme.onCertificate((name) => {
      if (name === this.#hostname.toLowerCase()) fn();
    });
  }

  close(): void {
    // The provider is closed by whoever loaded it.
  }
}
