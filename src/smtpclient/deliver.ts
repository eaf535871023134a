// Outbound delivery of a batch of messages to one recipient domain: MX hosts in order, the
// TLS policy of the destination (opportunistic STARTTLS, MTA-STS RFC 8461, DANE RFC 7672,
// REQUIRETLS RFC 8689), one connection reused for every message, and a result per
// recipient. Smarthost delivery (submission with AUTH) shares the sending part. Every TLS
// outcome is reported per policy domain and MX host for TLS reporting (RFC 8460).
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import type { Readable } from 'node:stream';
import { isIP, type Socket } from 'node:net';
import type { Resolver } from '../dns/index.ts';
import type { Logger } from '../log/index.ts';
import { SmtpClient, SmtpClientError, type Reply } from './client.ts';
import { lookupHostIPs, lookupMx, type IpFailures, type MxHost, type MxLookup } from './mx.ts';
import { lookupTlsa, peerChain, verifyDane, type TlsaLookup } from './dane.ts';
import { policyMatchesHost, resolvePolicy, type MtaStsPolicy, type MtaStsPolicyStorage, type StsFetchBackoff } from './mtasts.ts';

/** One queued message for delivery, with the recipients of this batch. */
export interface OutboundMessage {
  mailFrom: string;
  recipients: Array<{ id: number; address: string; notify?: string; orcpt?: string }>;
  size: number;
  body: '7BIT' | '8BITMIME' | 'BINARYMIME';
  smtputf8: boolean;
  envid?: string;
  ret?: 'FULL' | 'HDRS';
  requireTLS: boolean | null; // RFC 8689: true REQUIRETLS, false 'TLS-Required: No', null neither
  open(): Readable;
  /** Called once every recipient of this message has its outcome (the queue records it at once). */
  onDone?: (outcomes: ReadonlyMap<number, RecipientOutcome>) => void;
}

/** What happened to one recipient in this attempt. */
export interface RecipientOutcome {
  ok: boolean;
  permanent: boolean; // a failure that retrying cannot fix
  code?: number;
  enhanced?: string;
  message: string; // the reply text, or what went wrong
  reply?: string; // the remote server's reply as sent ('550 5.1.1 no such user'), for Diagnostic-Code (RFC 3464 §2.3.6)
  mx?: string;
  ip?: string;
  tls?: string; // 'none', 'starttls', 'mtasts', 'dane', 'implicit'
  relayedWithoutDsn?: boolean; // accepted by a next hop that does not offer DSN (RFC 3461 §4.1: we send a 'relayed' DSN)
}

/** One connection's TLS outcome (RFC 8460 §4.3 result types), for the TLS reports. */
export interface TlsOutcome {
  policyDomain: string;
  mxHost: string;
  policy: 'sts' | 'tlsa' | 'no-policy-found';
  result: string; // 'success' or a failure type
  detail?: string;
}

export interface DeliveryContext {
  resolver: Resolver;
  hostname: string; // EHLO name
  log: Logger;
  attempt: number; // 0-based attempt number of the oldest recipient: alternates IPv6/IPv4
  ipFailures?: IpFailures;
  mtaSts: MtaStsPolicyStorage;
  stsBackoff?: StsFetchBackoff; // RFC 8461 §3.3: a failed policy fetch is not repeated at once
  tlsOutcome(o: TlsOutcome): void;
  /** Connects through a proxy (SOCKS transport) instead of directly. */
  connect?: (ip: string, port: number) => Promise<Socket>;
  /** Test-only settings: the port of every MX and of MTA-STS policy servers, extra trusted CAs. */
  testing?: { mxPort?: number; mtaStsPort?: number; ca?: string[] };
  timeoutMs?: number;
}

type Outcomes = Map<number, RecipientOutcome>;

interface Verification {
  mode: 'dane' | 'dane-unauth' | 'mtasts-enforce' | 'mtasts-testing' | 'opportunistic';
  tlsa?: Extract<TlsaLookup, { kind: 'records' }>;
  policy?: MtaStsPolicy;
}

function failAll(messages: readonly OutboundMessage[], outcomes: Outcomes, o: RecipientOutcome): void {
  for (const m of messages) for (const r of m.recipients) if (!outcomes.has(r.id)) outcomes.set(r.id, o);
}

const tempfail = (message: string, code = 451, enhanced = '4.4.0'): RecipientOutcome => ({ ok: false, permanent: false, code, enhanced, message });
const permfail = (message: string, code = 550, enhanced = '5.0.0'): RecipientOutcome => ({ ok: false, permanent: true, code, enhanced, message });

/** Delivers to the domain's MX hosts. Every recipient of every message gets an outcome. */
export async function deliverDirect(ctx: DeliveryContext, domain: string, messages: readonly OutboundMessage[]): Promise<Outcomes> {
  const outcomes: Outcomes = new Map();
  const literal = /^\[(?:IPv6:)?([^\]]+)\]$/i.exec(domain)?.[1]; // RFC 5321 §4.1.3 address literal: no MX lookup
  const mx: MxLookup = literal ? { kind: 'hosts', hosts: [{ host: literal, preference: 0 }], authentic: false } : await lookupMx(ctx.resolver, domain);
  if (mx.kind === 'nullmx') {
    failAll(messages, outcomes, permfail(`${domain} does not accept mail (null MX)`, 556, '5.1.10')); // RFC 7505 §4.2
    return outcomes;
  }
  if (mx.kind === 'nodomain') {
    failAll(messages, outcomes, permfail(`domain ${domain} does not exist`, 550, '5.1.2')); // RFC 3463 5.1.2
    return outcomes;
  }
  if (mx.kind === 'error') {
    failAll(messages, outcomes, tempfail(`looking up MX of ${domain}: ${mx.message}`, 451, '4.4.3')); // RFC 3463 4.4.3
    return outcomes;
  }
  const sts = literal ? { policy: undefined } : await resolvePolicy(domain, { resolver: ctx.resolver, storage: ctx.mtaSts, ...(ctx.stsBackoff ? { backoff: ctx.stsBackoff } : {}), ...(ctx.testing?.mtaStsPort ? { port: ctx.testing.mtaStsPort } : {}), ...(ctx.testing?.ca ? { ca: ctx.testing.ca } : {}) });
  if ('failure' in sts && sts.failure) ctx.tlsOutcome({ policyDomain: domain, mxHost: '', policy: 'sts', result: sts.failure, detail: 'policy fetch' });
  const policy = sts.policy && sts.policy.mode !== 'none' ? sts.policy : undefined;

  // RFC 8689 §5: 'TLS-Required: No' messages ignore policy failures; they go separately over opportunistic TLS when the policy refuses a host.
  const strict = messages.filter((m) => m.requireTLS !== false);
  const relaxed = messages.filter((m) => m.requireTLS === false);
  let lastError = 'no MX host could be reached';
  for (const host of mx.hosts) {
    const pending = (list: readonly OutboundMessage[]) => list.filter((m) => m.recipients.some((r) => !outcomes.has(r.id)));
    if (pending(strict).length + pending(relaxed).length === 0) break;
    let v: Verification = { mode: 'opportunistic' };
    if (mx.authentic) {
      const t = await lookupTlsa(ctx.resolver, host.host, ctx.testing?.mxPort ?? 25);
      if (t.kind === 'error') {
        // RFC 7672 §2.2: a failed TLSA lookup in a signed zone defers delivery to this host.
        ctx.tlsOutcome({ policyDomain: domain, mxHost: host.host, policy: 'tlsa', result: 'tlsa-invalid', detail: t.message });
        lastError = `TLSA lookup for ${host.host}: ${t.message}`;
        if (pending(relaxed).length > 0) await deliverToHost(ctx, domain, host, pending(relaxed), { mode: 'opportunistic' }, outcomes).then((e) => e && (lastError = e));
        continue;
      }
      if (t.kind === 'records') v = t.usable.length > 0 ? { mode: 'dane', tlsa: t } : { mode: 'dane-unauth', tlsa: t }; // RFC 7672 §2.2: unusable records still require TLS
    }
    if (v.mode === 'opportunistic' && policy) {
      v = { mode: policy.mode === 'enforce' ? 'mtasts-enforce' : 'mtasts-testing', policy };
      if (!policyMatchesHost(policy, host.host)) {
        ctx.tlsOutcome({ policyDomain: domain, mxHost: host.host, policy: 'sts', result: 'validation-failure', detail: `MX ${host.host} not in the MTA-STS policy` });
        if (policy.mode === 'enforce') {
          lastError = `MX ${host.host} is not allowed by the MTA-STS policy of ${domain}`; // RFC 8461 §4.1
          if (pending(relaxed).length > 0) await deliverToHost(ctx, domain, host, pending(relaxed), { mode: 'opportunistic' }, outcomes).then((e) => e && (lastError = e));
          continue;
        }
        v = { mode: 'opportunistic' }; // testing: report, deliver
      }
    }
    const all = [...pending(strict), ...(v.mode === 'opportunistic' ? pending(relaxed) : [])];
    if (all.length > 0) {
      const e = await deliverToHost(ctx, domain, host, all, v, outcomes);
      if (e) lastError = e;
    }
    if (v.mode !== 'opportunistic' && pending(relaxed).length > 0) {
      const e = await deliverToHost(ctx, domain, host, pending(relaxed), { mode: 'opportunistic' }, outcomes);
      if (e) lastError = e;
    }
  }
  failAll(messages, outcomes, tempfail(lastError, 451, '4.4.1')); // RFC 3463 4.4.1: no answer from host
  return outcomes;
}

/** Tries the host's addresses until the messages are delivered; returns the last connection error, if any. */
async function deliverToHost(ctx: DeliveryContext, domain: string, host: MxHost, messages: readonly OutboundMessage[], v: Verification, outcomes: Outcomes): Promise<string | undefined> {
  const ips = await lookupHostIPs(ctx.resolver, host.host, ctx.attempt, ctx.ipFailures);
  if (ips.kind === 'error') return `resolving ${host.host}: ${ips.message}`;
  const policyType = v.mode.startsWith('dane') ? 'tlsa' : v.mode.startsWith('mtasts') ? 'sts' : 'no-policy-found';
  let lastError: string | undefined;
  const queue = [...ips.ips];
  for (let ip = queue.shift(); ip !== undefined; ip = queue.shift()) {
    const left = messages.filter((m) => m.recipients.some((r) => !outcomes.has(r.id)));
    if (left.length === 0) break;
    const port = ctx.testing?.mxPort ?? 25;
    let client: SmtpClient | undefined;
    try {
      client = await connectHost(ctx, ip, port);
      await client.hello(ctx.hostname);
      const tls = await startTls(ctx, client, host.host, v, domain, policyType);
      if (tls.error) {
        lastError = tls.error;
        ctx.ipFailures?.fail(ip);
        client.close();
        client = undefined;
        if (!tls.retry) continue;
        client = await connectHost(ctx, ip, port);
        await client.hello(ctx.hostname);
        if (tls.retry === 'unverified' && client.has('STARTTLS')) {
          // MTA-STS testing (RFC 8461 §5): the failure is reported, the message still goes over TLS, unverified.
          await client.starttls(ctx.hostname, { servername: host.host, rejectUnauthorized: false, minVersion: 'TLSv1.2' });
          tls.mode = 'starttls';
        } // else opportunistic TLS failed: once more without it (RFC 7435 §1.3)
      }
      ctx.ipFailures?.succeed(ip);
      const verified = tls.mode === 'dane' || tls.mode === 'mtasts';
      const sent = await sendMessages(client, left, outcomes, { mx: host.host, ip, tls: tls.mode }, verified);
      if (sent === undefined) await client.quit();
      else if (sent === mailMaxReached) {
        await client.quit();
        queue.unshift(ip); // RFC 9422 §4.1: the server takes MAILMAX transactions per connection; a new one continues
      } else lastError = sent;
    } catch (e) {
      lastError = `${host.host} (${ip}): ${(e as Error).message}`;
      ctx.ipFailures?.fail(ip);
      ctx.log.debug({ host: host.host, ip, err: (e as Error).message }, 'delivery connection failed');
    } finally {
      client?.close();
    }
  }
  return lastError;
}

async function connectHost(ctx: DeliveryContext, ip: string, port: number): Promise<SmtpClient> {
  const timeoutMs = ctx.timeoutMs ?? 5 * 60_000;
  if (ctx.connect) return SmtpClient.connect({ host: ip, port, timeoutMs, socket: await ctx.connect(ip, port) });
  return SmtpClient.connect({ host: ip, port, timeoutMs, connectTimeoutMs: Math.min(timeoutMs, 30_000) });
}

function tlsFailureType(e: Error & { code?: string }): string {
  const code = e.code ?? /\b([A-Z_]{6,})\b/.exec(e.message)?.[1] ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /altname|does not match/i.test(e.message)) return 'certificate-host-mismatch'; // RFC 8460 §4.3.2.2
  if (code === 'CERT_HAS_EXPIRED' || /expired/i.test(e.message)) return 'certificate-expired';
  if (/certificate|verify|self.signed|issuer/i.test(e.message)) return 'certificate-not-trusted';
  return 'validation-failure';
}

/** STARTTLS per the verification mode; `mode` is what was achieved. */
async function startTls(ctx: DeliveryContext, client: SmtpClient, host: string, v: Verification, domain: string, policy: TlsOutcome['policy']): Promise<{ mode: string; error?: string; retry?: 'plain' | 'unverified' }> {
  const report = (result: string, detail?: string) => ctx.tlsOutcome({ policyDomain: domain, mxHost: host, policy, result, ...(detail ? { detail } : {}) });
  const required = v.mode !== 'opportunistic' && v.mode !== 'mtasts-testing';
  if (!client.has('STARTTLS')) {
    report('starttls-not-supported');
    if (required) return { mode: 'none', error: `${host} does not offer STARTTLS, required by ${policy === 'tlsa' ? 'DANE' : 'MTA-STS'}` }; // RFC 7672 §2.2, RFC 8461 §5
    return { mode: 'none' };
  }
  const pkix = v.mode === 'mtasts-enforce' || v.mode === 'mtasts-testing';
  const options: ConnectionOptions = {
    servername: v.mode === 'dane' && v.tlsa ? v.tlsa.baseDomain : host, // RFC 7672 §8.1: SNI is the TLSA base domain
    minVersion: 'TLSv1.2',
    // DANE and opportunistic TLS verify nothing here (DANE checks the chain after the handshake, RFC 7672 §3);
    // MTA-STS needs a WebPKI chain valid for the MX host name (RFC 8461 §4.2).
    rejectUnauthorized: pkix,
    ...(pkix && ctx.testing?.ca ? { ca: [...rootCertificates, ...ctx.testing.ca] } : {}),
  };
  try {
    await client.starttls(ctx.hostname, options);
  } catch (e) {
    const type = pkix ? tlsFailureType(e as Error) : 'validation-failure';
    report(type, (e as Error).message);
    if (v.mode === 'mtasts-testing') return { mode: 'none', error: `TLS with ${host}: ${(e as Error).message}`, retry: pkix ? 'unverified' : 'plain' };
    if (v.mode === 'opportunistic') return { mode: 'none', error: `TLS with ${host}: ${(e as Error).message}`, retry: 'plain' };
    return { mode: 'none', error: `TLS with ${host} (${v.mode}): ${(e as Error).message}` };
  }
  if (v.mode === 'dane' && v.tlsa) {
    const r = verifyDane(peerChain(client.tls!), v.tlsa.usable, [host, v.tlsa.baseDomain]);
    if (!r.ok) {
      report(r.failure, r.message);
      return { mode: 'none', error: `DANE verification of ${host} failed: ${r.message}` }; // RFC 7672 §2.2: no fallback
    }
    report('success');
    return { mode: 'dane' };
  }
  report('success');
  return { mode: pkix ? 'mtasts' : 'starttls' };
}

/**
 * Sends each message over the connection (RSET between them is implied by a completed
 * transaction). Records outcomes; returns a connection error text when the connection
 * broke (the messages left are tried on the next address), else undefined.
 */
export async function sendMessages(client: SmtpClient, messages: readonly OutboundMessage[], outcomes: Outcomes, where: { mx: string; ip: string; tls: string }, verifiedTLS: boolean): Promise<string | undefined> {
  const rcptMax = Number(/(?:^| )RCPTMAX=(\d+)/i.exec(client.extensions.get('LIMITS') ?? '')?.[1] ?? 0) || Infinity; // RFC 9422 §4.2
  const mailMax = Number(/(?:^| )MAILMAX=(\d+)/i.exec(client.extensions.get('LIMITS') ?? '')?.[1] ?? 0) || Infinity; // RFC 9422 §4.1
  let transactions = 0;
  const set = (id: number, o: Omit<RecipientOutcome, 'mx' | 'ip' | 'tls'>) => outcomes.set(id, { ...o, ...where });
  const done = (m: OutboundMessage) => {
    if (m.recipients.every((r) => outcomes.has(r.id))) m.onDone?.(outcomes);
  };
  for (const m of messages) {
    const recipients = m.recipients.filter((r) => !outcomes.has(r.id));
    if (m.requireTLS === true && !(verifiedTLS && client.has('REQUIRETLS'))) {
      // RFC 8689 §4.2.1: only over TLS verified by MTA-STS or DANE to a server offering REQUIRETLS.
      const why = verifiedTLS ? `${where.mx} does not offer REQUIRETLS` : `no verified TLS to ${where.mx} (MTA-STS or DANE)`;
      for (const r of recipients) set(r.id, { ok: false, permanent: true, code: 550, enhanced: '5.7.30', message: `REQUIRETLS: ${why}` }); // RFC 8689 §5
      done(m);
      continue;
    }
    for (let i = 0; i < recipients.length; i += rcptMax === Infinity ? recipients.length : rcptMax) {
      if (transactions >= mailMax) return mailMaxReached; // the next connection continues
      const chunk = recipients.slice(i, i + (rcptMax === Infinity ? recipients.length : rcptMax));
      transactions++;
      try {
        const r = await client.send(
          { mailFrom: m.mailFrom, recipients: chunk.map((x) => ({ address: x.address, ...(x.notify ? { notify: x.notify } : {}), ...(x.orcpt ? { orcpt: x.orcpt } : {}) })), size: m.size, body: m.body, smtputf8: m.smtputf8, ...(m.ret ? { ret: m.ret } : {}), ...(m.envid ? { envid: m.envid } : {}), ...(m.requireTLS ? { requireTLS: true } : {}) },
          () => m.open(),
        );
        const byAddress = new Map<string, number[]>();
        for (const x of chunk) byAddress.set(x.address, [...(byAddress.get(x.address) ?? []), x.id]);
        const take = (address: string) => byAddress.get(address)?.shift();
        for (const rej of r.rejected) {
          const id = take(rej.address);
          if (id !== undefined) set(id, replyOutcome(rej.reply, `RCPT TO:<${rej.address}>`));
        }
        for (const acc of r.accepted) {
          const id = take(acc.address);
          if (id === undefined) continue;
          const d = r.data!;
          if (d.code === 250) set(id, { ok: true, permanent: false, code: d.code, ...(d.enhanced ? { enhanced: d.enhanced } : {}), message: d.lines.join(' '), reply: `${d.code}${d.enhanced ? ` ${d.enhanced}` : ''} ${d.lines.join(' ')}`, ...(client.has('DSN') ? {} : { relayedWithoutDsn: true }) });
          else set(id, replyOutcome(d, 'end of data'));
        }
      } catch (e) {
        if (!(e instanceof SmtpClientError)) throw e;
        if (e.kind === 'reply' && e.reply) {
          for (const x of chunk) set(x.id, replyOutcome(e.reply, 'MAIL FROM')); // MAIL FROM or DATA refused
          continue;
        }
        if (e.kind === 'unsupported') {
          const enhanced = /SMTPUTF8/.test(e.message) ? '5.6.7' : /8BITMIME|BINARYMIME|CHUNKING/.test(e.message) ? '5.6.3' : /SIZE/.test(e.message) ? '5.3.4' : '5.5.1'; // RFC 6531 §3.7.5, RFC 3463
          for (const x of chunk) set(x.id, { ok: false, permanent: true, code: 554, enhanced, message: e.message });
          continue;
        }
        return `${where.mx} (${where.ip}): ${e.message}`; // connection trouble: the rest goes to the next address
      }
    }
    done(m);
  }
  return undefined;
}

const mailMaxReached = 'MAILMAX reached';

function replyOutcome(r: Reply, step: string): RecipientOutcome {
  const reply = `${r.code}${r.enhanced ? ` ${r.enhanced}` : ''} ${r.lines.join(' ')}`;
  return { ok: false, permanent: r.code >= 500, code: r.code, ...(r.enhanced ? { enhanced: r.enhanced } : {}), message: `${step}: ${reply}`, reply };
}

/** A smarthost: submission with STARTTLS or implicit TLS, AUTH when configured; every message goes there whatever its domain. */
export async function deliverSmarthost(
  ctx: Pick<DeliveryContext, 'hostname' | 'log' | 'resolver' | 'timeoutMs'> & { testing?: { ca?: string[] } },
  t: { host: string; port?: number; tls: 'starttls' | 'implicit'; username?: string; password?: string; verifyTLS: boolean },
  messages: readonly OutboundMessage[],
): Promise<Outcomes> {
  const outcomes: Outcomes = new Map();
  const port = t.port ?? (t.tls === 'implicit' ? 465 : 587);
  const tlsOptions: ConnectionOptions = { servername: t.host, rejectUnauthorized: t.verifyTLS, minVersion: 'TLSv1.2', ...(ctx.testing?.ca ? { ca: [...rootCertificates, ...ctx.testing.ca] } : {}) };
  let ip = t.host;
  if (isIP(t.host) === 0) {
    const ips = await lookupHostIPs(ctx.resolver, t.host, 0);
    if (ips.kind === 'error') {
      failAll(messages, outcomes, tempfail(`resolving smarthost ${t.host}: ${ips.message}`, 451, '4.4.3'));
      return outcomes;
    }
    ip = ips.ips[0]!;
  }
  let client: SmtpClient | undefined;
  try {
    client = await SmtpClient.connect({ host: ip, port, timeoutMs: ctx.timeoutMs ?? 5 * 60_000, ...(t.tls === 'implicit' ? { tls: tlsOptions } : {}) });
    await client.hello(ctx.hostname);
    if (t.tls === 'starttls') {
      if (!client.has('STARTTLS')) throw new SmtpClientError('tls', `smarthost ${t.host} does not offer STARTTLS`);
      await client.starttls(ctx.hostname, tlsOptions);
    }
    if (t.username !== undefined) await client.auth(t.username, t.password ?? '');
    const e = await sendMessages(client, messages, outcomes, { mx: t.host, ip, tls: t.tls === 'implicit' ? 'implicit' : 'starttls' }, t.verifyTLS);
    if (e === undefined) await client.quit();
    else failAll(messages, outcomes, tempfail(e));
  } catch (e) {
    const permanent = e instanceof SmtpClientError && e.permanent && e.reply?.code !== undefined && e.reply.code >= 500 && /^AUTH/.test(e.message) === false;
    failAll(messages, outcomes, permanent ? permfail(`smarthost ${t.host}: ${(e as Error).message}`, e instanceof SmtpClientError ? e.reply?.code : 550) : tempfail(`smarthost ${t.host}: ${(e as Error).message}`));
  } finally {
    client?.close();
  }
  return outcomes;
}
