// Starting the SMTP services a configuration asks for: one listener per IP and enabled
// service (smtp, submission, submissions), TLS from the listener's tls section, and the
// limits from mailcove.conf. Used by `serve` and `localserve`.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Config, DynamicConfig } from '../config/index.ts';
import type { Resolver } from '../dns/index.ts';
import type { Store } from '../store/index.ts';
import { loadListenerTls, type TlsConfig } from '../tls/index.ts';
import { ConcurrencyLimiter, RateLimiter } from '../ratelimit/index.ts';
import { authFailureLimiter } from '../sasl/index.ts';
import type { SmtpContext, SmtpRateLimits } from './context.ts';
import { AccountCache } from './accounts.ts';
import { startSmtpServers, type SmtpListenerSpec, type SmtpServers } from './server.ts';

const minute = 60_000;
const day = 24 * 60 * minute;

/** Per-IP-class limits on MX connections and deliveries (classes /32,/26,/21 and /64,/48,/32); generous for real senders, tight for floods. */
export function defaultRateLimits(): SmtpRateLimits {
  return {
    connections: new RateLimiter([{ windowMs: minute, limits: [300, 900, 2700] }]),
    concurrent: new ConcurrencyLimiter([100, 300, 900]),
    messages: new RateLimiter([{ windowMs: minute, limits: [500, 1500, 4500] }, { windowMs: day, limits: [20_000, 60_000, 180_000] }]),
    bytes: new RateLimiter([{ windowMs: minute, limits: [1 << 30, 3 << 30, 9 << 30] }, { windowMs: day, limits: [10 * 2 ** 30, 30 * 2 ** 30, 90 * 2 ** 30] }]),
  };
}

export interface StartSmtpOptions {
  config: Config;
  store: Store;
  domains: DynamicConfig;
  resolver: Resolver;
  localserve?: { account: string; simulatedTimeoutMs?: number };
  /** Overrides for tests. */
  context?: Partial<SmtpContext>;
  /** Tests: listen on these ports instead of the configured ones (0: any free port). */
  ports?: Partial<Record<'smtp' | 'submission' | 'submissions', number>>;
}

export interface RunningSmtp extends SmtpServers {
  tls: TlsConfig[];
}

export async function startSmtp(o: StartSmtpOptions): Promise<RunningSmtp> {
  const st = o.config.static;
  const spoolDir = `${o.config.paths.dataDir}/tmp/smtp`;
  await mkdir(spoolDir, { recursive: true });
  for (const f of await readdir(spoolDir)) await rm(`${spoolDir}/${f}`, { force: true }); // left by a crash: nothing in them was acknowledged
  const ctx: SmtpContext = {
    hostname: st.hostname,
    store: o.store,
    accounts: new AccountCache(o.store),
    domains: () => o.domains.current(),
    configDir: dirname(o.config.paths.static),
    resolver: o.resolver,
    spoolDir,
    limits: {
      maxMessageSize: st.limits.maxMessageSize,
      maxRecipients: st.limits.maxRecipients,
      maxConnectionsPerIP: st.limits.maxConnectionsPerIP,
      maxCommandLine: 4096,
      maxErrors: 50,
      maxReceived: 100, // issue 3: more than 100 Received fields is a loop
    },
    timeouts: { commandMs: 5 * minute, dataMs: 5 * minute }, // RFC 5321 §4.5.3.2.7: at least 5 minutes
    unknownRecipientDelayMs: o.localserve ? 0 : 1000,
    authFailures: authFailureLimiter(),
    rateLimits: o.localserve ? undefined : defaultRateLimits(),
    localserve: o.localserve ? { account: o.localserve.account, simulatedTimeoutMs: o.localserve.simulatedTimeoutMs ?? 30 * minute } : undefined,
    ...o.context,
  };
  const tls: TlsConfig[] = [];
  const specs: SmtpListenerSpec[] = [];
  try {
    for (const l of Object.values(st.listeners)) {
      const hostname = l.hostname ?? st.hostname;
      const t = l.tls ? await loadListenerTls({ tls: l.tls, hostname, ips: l.ips, configDir: ctx.configDir, dataDir: o.config.paths.dataDir }) : undefined;
      if (t) tls.push(t);
      for (const service of ['smtp', 'submission', 'submissions'] as const) {
        const svc = l[service];
        if (!svc.enabled) continue;
        for (const ip of l.ips) specs.push({ service, ip, port: o.ports?.[service] ?? svc.port, hostname, tls: t });
      }
    }
    const servers = await startSmtpServers(ctx, specs);
    return {
      ...servers,
      tls,
      close: async (graceMs?: number) => {
        await servers.close(graceMs);
        await ctx.accounts.close();
        for (const t of tls) t.close();
      },
    };
  } catch (e) {
    for (const t of tls) t.close();
    throw e;
  }
}
