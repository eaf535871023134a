// The certificates of one ACME provider (RFC 8555) for a list of host names: one certificate
// per name, issued for the name's stable key, cached in the data directory, obtained in the
// background and on demand (one order per name at a time), renewed before expiry; a failed
// renewal is logged and retried later while the old certificate stays in use.
import { X509Certificate, createPublicKey } from 'node:crypto';
import { resolve } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Authorization, Client } from 'acme-client';
import type { AcmeProvider } from '../config/index.ts';
import { logger } from '../log/index.ts';
import { counter, gaugeCollected } from '../metrics/index.ts';
import { makeCsr, makeTlsAlpnCertificate, registerAcmeSource, type AcmeCertificateSource } from '../tls/index.ts';
import { accountClient } from './account.ts';
import { addHttpChallenge, addTlsAlpnChallenge, removeHttpChallenge, removeTlsAlpnChallenge, tlsAlpnChallengeContext } from './challenges.ts';
import { acmePaths, ensureKey, readOptional, writeAcmeFile, type AcmePaths } from './files.ts';
import { acmeName } from './names.ts';

const log = logger('acme');

const orders = counter<'provider' | 'result'>('mailcove_acme_orders_total', 'ACME certificate orders (RFC 8555 §7.4) by provider and result (ok, error).', ['provider', 'result']);

const day = 24 * 60 * 60 * 1000;
const firstRetryMs = 5 * 60 * 1000; // a failed order is tried again after 5 minutes, doubling: stays under CAs' failed-validation limits
const maxRetryMs = 12 * 60 * 60 * 1000;
// An order (account, authorizations, finalization, download) that takes longer has failed: acme-client's
// polling is bounded (10 attempts) but its HTTP retries wait as long as a CA's Retry-After says.
const orderTimeoutMs = 15 * 60 * 1000;

/** Something ACME cannot do: a name not in the list, a provider loaded twice, a recent failure. */
export class AcmeError extends Error {
  override name = 'AcmeError';
}

/** A certificate for one host name, ready to serve. */
export interface AcmeCertificate {
  name: string; // lowercase A-label
  keyPEM: string; // the name's stable key
  certPEM: string; // chain as issued, leaf first
  leaf: X509Certificate;
  notAfter: Date;
  context: SecureContext; // key and chain, for SNICallback
}

export interface AcmeOptions {
  provider: string; // name under `acme` in mailcove.conf
  config: AcmeProvider;
  dataDir: string;
  configDir: string; // relative file names in the provider's config
  names: readonly string[]; // host names to get certificates for (see acmeHostnames)
  renewBeforeMs?: number; // renew when less than this remains; default 30 days
  checkIntervalMs?: number; // how often expiry is checked once started; default 1 hour
  orderTimeoutMs?: number; // an order not done by then fails (and is retried later); default 15 minutes
  /** Tests: first delay when polling pending challenges and orders (acme-client's default is 5 s). */
  pollMinMs?: number;
  /** Tests: the clock for renewal decisions. */
  now?: () => number;
}

interface Failure {
  message: string;
  delayMs: number; // grows with each failure
  retryAt: number; // ms since epoch
}

const loaded = new Map<string, AcmeManager>(); // by data directory and provider

// Read from the loaded managers when scraped: a name dropped from the list (or a closed provider) leaves no stale expiry behind to alert on.
gaugeCollected<'provider' | 'name'>('mailcove_acme_certificate_not_after_seconds', 'Expiry (Unix time) of the ACME certificate served for a host name.', ['provider', 'name'], async () =>
  [...loaded.values()].flatMap((m) => m.names().flatMap((name) => {
    const c = m.cached(name);
    return c ? [{ labels: { provider: m.provider, name }, value: Math.floor(c.notAfter.getTime() / 1000) }] : [];
  })),
);

function loadedKey(dataDir: string, provider: string): string {
  return `${resolve(dataDir)}\0${provider}`;
}

/**
 * The manager of a provider's certificates, with the certificates cached in the data
 * directory loaded (no network yet), registered for the listeners with `tls.acme: <provider>`
 * (loadListenerTls). start() begins obtaining and renewing, once the challenge listeners are up.
 */
export async function loadAcme(o: AcmeOptions): Promise<AcmeManager> {
  const key = loadedKey(o.dataDir, o.provider);
  if (loaded.has(key)) throw new AcmeError(`ACME provider ${JSON.stringify(o.provider)} is already loaded for ${o.dataDir}`);
  let unregister = () => {};
  const m = new AcmeManager(o, () => {
    unregister();
    loaded.delete(key);
  });
  loaded.set(key, m);
  try {
    await m.setNames(o.names);
  } catch (e) {
    loaded.delete(key);
    throw e;
  }
  unregister = registerAcmeSource(o.dataDir, o.provider, m);
  return m;
}

export class AcmeManager implements AcmeCertificateSource {
  readonly provider: string;
  readonly #o: AcmeOptions;
  readonly #paths: AcmePaths;
  readonly #unload: () => void;
  readonly #now: () => number;
  #names = new Set<string>();
  readonly #certs = new Map<string, AcmeCertificate>();
  readonly #orders = new Map<string, Promise<AcmeCertificate>>(); // at most one order per name
  readonly #failures = new Map<string, Failure>();
  #client: Promise<Client> | undefined;
  #checking: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined; // set once started
  #closed = false;
  #ordersPlaced = 0;
  readonly #certificateListeners = new Set<(name: string) => void>();

  constructor(o: AcmeOptions, unload: () => void) {
    this.provider = o.provider;
    this.#o = o;
    this.#paths = acmePaths(o.dataDir, o.provider);
    this.#unload = unload;
    this.#now = o.now ?? Date.now;
    orders.inc({ provider: o.provider, result: 'ok' }, 0);
    orders.inc({ provider: o.provider, result: 'error' }, 0);
  }

  onCertificate(fn: (name: string) => void): () => void {
    this.#certificateListeners.add(fn);
    return () => this.#certificateListeners.delete(fn);
  }

  #serve(n: string, c: AcmeCertificate): void {
    this.#certs.set(n, c);
    for (const fn of this.#certificateListeners) fn(n);
  }

  /** Orders this manager placed (for tests and logs). */
  get ordersPlaced(): number {
    return this.#ordersPlaced;
  }

  names(): string[] {
    return [...this.#names];
  }

  /** Whether certificates are obtained for this name (SNI names outside the list never cause an order). */
  allowed(name: string): boolean {
    const n = acmeName(name);
    return n !== undefined && this.#names.has(n);
  }

  /** Replaces the list of names (e.g. after domains.conf changed): cached certificates of new names are loaded, missing ones obtained once started. */
  async setNames(names: readonly string[]): Promise<void> {
    const next = new Set<string>();
    for (const name of names) {
      const n = acmeName(name);
      if (!n) throw new AcmeError(`not a host name: ${JSON.stringify(name)}`);
      next.add(n);
    }
    const added = [...next].filter((n) => !this.#names.has(n));
    this.#names = next;
    for (const n of [...this.#certs.keys()]) if (!next.has(n)) this.#certs.delete(n);
    for (const n of added) {
      const c = await this.#readCached(n);
      if (c && next.has(n)) this.#serve(n, c);
    }
    if (this.#timer && added.length > 0) void this.checkRenewals();
  }

  /** The certificate in use for a name, without waiting; possibly expired. */
  cached(name: string): AcmeCertificate | undefined {
    const n = acmeName(name);
    return n === undefined ? undefined : this.#certs.get(n);
  }

  /**
   * The certificate for an allowed name: the cached one while it is valid, else obtained now
   * (joining an order in progress). After a failed order, no new one is placed until its
   * retry time; the old certificate is returned meanwhile, if there is one.
   */
  async certificate(name: string): Promise<AcmeCertificate> {
    const n = this.#allowedName(name);
    const c = this.#certs.get(n);
    if (c && c.notAfter.getTime() > this.#now()) return c;
    const f = this.#failures.get(n);
    if (f && this.#now() < f.retryAt && !this.#orders.has(n)) {
      if (c) return c;
      throw new AcmeError(`no certificate for ${n}: the last order failed (${f.message}); next attempt after ${new Date(f.retryAt).toISOString()}`);
    }
    try {
      return await this.#order(n);
    } catch (e) {
      if (c) return c;
      throw e;
    }
  }

  /** The provider's account URL (RFC 8555 §7.3), registering the account now when needed: for a CAA accounturi (RFC 8657 §3). */
  async accountURL(): Promise<string> {
    return (await this.#accountClient()).getAccountUrl();
  }

  /** The challenge certificate while a tls-alpn-01 challenge for the name is pending (any provider's). */
  challengeContext(name: string): SecureContext | undefined {
    return tlsAlpnChallengeContext(name);
  }

  /** Obtains a new certificate for an allowed name now, whatever the cached one's expiry (same key). */
  renew(name: string): Promise<AcmeCertificate> {
    return this.#order(this.#allowedName(name));
  }

  /** Begins obtaining missing certificates in the background and checking expiry periodically. */
  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => void this.checkRenewals(), this.#o.checkIntervalMs ?? 60 * 60 * 1000);
    this.#timer.unref();
    void this.checkRenewals();
  }

  /** Orders a certificate for every name without one or due for renewal, one after the other (failures are logged and retried later). */
  checkRenewals(): Promise<void> {
    if (this.#checking) return this.#checking;
    const p = (async () => {
      for (const n of [...this.#names]) {
        if (this.#closed) return;
        if (!this.#due(n)) continue;
        const f = this.#failures.get(n);
        if (f && this.#now() < f.retryAt) continue;
        await this.#order(n).catch(() => undefined); // logged by #order
      }
    })().finally(() => {
      if (this.#checking === p) this.#checking = undefined;
    });
    this.#checking = p;
    return p;
  }

  /** Stops the timer and waits for orders in progress; the provider can be loaded again afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await Promise.allSettled([...this.#orders.values(), this.#checking]);
    this.#unload();
  }

  #allowedName(name: string): string {
    const n = acmeName(name);
    if (n === undefined || !this.#names.has(n)) throw new AcmeError(`${JSON.stringify(name)} is not among the names of ACME provider ${JSON.stringify(this.provider)}`);
    return n;
  }

  /** Renewal is due when less than renewBefore (30 days) or a third of the lifetime remains, whichever is less (short-lived certificates). */
  #due(n: string): boolean {
    const c = this.#certs.get(n);
    if (!c) return true;
    const end = c.notAfter.getTime();
    const lifetime = end - new Date(c.leaf.validFrom).getTime();
    return end - this.#now() < Math.min(this.#o.renewBeforeMs ?? 30 * day, lifetime / 3);
  }

  #order(n: string): Promise<AcmeCertificate> {
    const pending = this.#orders.get(n);
    if (pending) return pending;
    if (this.#closed) return Promise.reject(new AcmeError(`ACME provider ${JSON.stringify(this.provider)} is closed`));
    const p = withDeadline(this.#obtain(n), this.#o.orderTimeoutMs ?? orderTimeoutMs, `ACME order for ${n}`).then(
      (c) => {
        this.#failures.delete(n);
        if (this.#names.has(n)) this.#serve(n, c);
        return c;
      },
      (e: unknown) => {
        const prev = this.#failures.get(n);
        const delayMs = prev ? Math.min(prev.delayMs * 2, maxRetryMs) : firstRetryMs;
        const message = e instanceof Error ? e.message : String(e);
        this.#failures.set(n, { message, delayMs, retryAt: this.#now() + delayMs });
        orders.inc({ provider: this.provider, result: 'error' });
        const old = this.#certs.get(n);
        log.warn({ err: e, provider: this.provider, name: n, retryInMs: delayMs, ...(old ? { keptNotAfter: old.notAfter.toISOString() } : {}) }, 'obtaining ACME certificate failed');
        throw e;
      },
    );
    this.#orders.set(n, p);
    void p.then(() => this.#orders.delete(n), () => this.#orders.delete(n));
    return p;
  }

  // RFC 8555 §7.4: order, authorize each identifier with a challenge, finalize with a CSR, download.
  async #obtain(n: string): Promise<AcmeCertificate> {
    const started = Date.now();
    const client = await this.#accountClient();
    const keyPEM = await ensureKey(this.#paths.hostKey(n));
    const csr = makeCsr(keyPEM, [n]); // one name per certificate
    this.#ordersPlaced++;
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: n }] });
    for (const authz of await client.getAuthorizations(order)) {
      if (authz.status === 'valid') continue; // RFC 8555 §7.1.4: an authorization still valid from an earlier order
      await this.#authorize(client, authz);
    }
    await client.waitForValidStatus(order); // 'ready' (RFC 8555 §7.1.6) once every authorization is valid
    const chainPEM = await client.getCertificate(await client.finalizeOrder(order, csr)); // waits while the order is 'processing'
    const c = certificateFrom(n, keyPEM, chainPEM);
    await writeAcmeFile(this.#paths.certificate(n), chainPEM, 0o644);
    orders.inc({ provider: this.provider, result: 'ok' });
    log.info({ provider: this.provider, name: n, notAfter: c.notAfter.toISOString(), issuer: c.leaf.issuer, ms: Date.now() - started }, 'ACME certificate obtained');
    return c;
  }

  /** Answers the first configured challenge type the CA offers and waits for the CA to validate it (RFC 8555 §7.5.1). */
  async #authorize(client: Client, authz: Authorization): Promise<void> {
    const name = authz.identifier.value.toLowerCase();
    const types: readonly string[] = this.#o.config.challengeTypes;
    const challenge = [...authz.challenges].filter((c) => types.includes(c.type)).sort((a, b) => types.indexOf(a.type) - types.indexOf(b.type))[0];
    if (!challenge) throw new AcmeError(`${name}: the CA offers ${authz.challenges.map((c) => c.type).join(', ')}, none of ${types.join(', ')}`);
    const type: string = challenge.type; // acme-client's types know http-01 and dns-01 only
    const keyAuthorization = await client.getChallengeKeyAuthorization(challenge); // RFC 8555 §8.1
    let context: SecureContext | undefined;
    if (type === 'http-01') addHttpChallenge(challenge.token, name, keyAuthorization); // RFC 8555 §8.3
    else {
      const { keyPEM, certPEM } = await makeTlsAlpnCertificate(name, keyAuthorization); // RFC 8737 §3
      context = addTlsAlpnChallenge(name, keyPEM, certPEM);
    }
    log.debug({ provider: this.provider, name, type }, 'ACME challenge ready');
    try {
      await client.completeChallenge(challenge);
      await client.waitForValidStatus(challenge); // an invalid challenge ends the wait with the CA's problem document
    } finally {
      if (type === 'http-01') removeHttpChallenge(challenge.token);
      else removeTlsAlpnChallenge(name, context!);
    }
  }

  #accountClient(): Promise<Client> {
    if (!this.#client) {
      const o = this.#o;
      const p = accountClient({ provider: o.provider, config: o.config, paths: this.#paths, configDir: o.configDir, ...(o.pollMinMs !== undefined ? { pollMinMs: o.pollMinMs } : {}) });
      this.#client = p;
      p.catch(() => {
        if (this.#client === p) this.#client = undefined; // registration is tried again with the next order
      });
    }
    return this.#client;
  }

  async #readCached(n: string): Promise<AcmeCertificate | undefined> {
    const [keyPEM, chainPEM] = await Promise.all([readOptional(this.#paths.hostKey(n)), readOptional(this.#paths.certificate(n))]);
    if (keyPEM === undefined || chainPEM === undefined) return undefined;
    try {
      return certificateFrom(n, keyPEM, chainPEM);
    } catch (e) {
      log.warn({ err: e, provider: this.provider, name: n }, 'cached ACME certificate unusable, a new one will be obtained');
      return undefined;
    }
  }
}

/** The promise's outcome, or an AcmeError once `ms` have passed (the work itself goes on, unobserved). */
function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AcmeError(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A certificate checked to be for the name and the name's key. */
function certificateFrom(name: string, keyPEM: string, chainPEM: string): AcmeCertificate {
  const leaf = new X509Certificate(chainPEM); // the first certificate: the leaf (RFC 8555 §7.4.2)
  if (leaf.checkHost(name, { wildcards: false }) === undefined) throw new AcmeError(`certificate does not cover ${name}`);
  if (!leaf.publicKey.equals(createPublicKey(keyPEM))) throw new AcmeError(`certificate for ${name} is not for its key`);
  return { name, keyPEM, certPEM: chainPEM, leaf, notAfter: leaf.validToDate, context: createSecureContext({ key: keyPEM, cert: chainPEM }) };
}
