// The web listeners of localserve and serve: every listener's enabled web services
// (accountHTTP(S), adminHTTP(S), autoconfigHTTPS, mtastsHTTPS) grouped by IP and port, so
// surfaces sharing a port are routed by path prefix on one server (autoconfig and MTA-STS
// answer only for their host names). Webmail and the web API come with later issues.
import { dirname } from 'node:path';
import type { Config, DomainsConfig, StaticConfig } from '../config/index.ts';
import type { Resolver } from '../dns/index.ts';
import { startHttp, type HttpListener, type HttpServers, type Surface } from '../http/index.ts';
import { autoconfigSurfaces, mtaStsSurfaces } from '../autoconfig/index.ts';
import type { Queue } from '../queue/index.ts';
import type { AuthFailureLimiter } from '../sasl/index.ts';
import type { Store } from '../store/index.ts';
import type { TlsOptions } from 'node:tls';
import { keepDefaultCertificate, loadListenerTls, type TlsConfig } from '../tls/index.ts';
import { accountSurface } from '../webaccount/index.ts';
import { adminSurface } from '../webadmin/index.ts';

export interface WebOptions {
  config: Config;
  store: Store;
  domains: () => DomainsConfig;
  authFailures: AuthFailureLimiter;
  resolver: Resolver;
  queue?: Queue;
  version: string;
  startedAt: Date;
}

export interface RunningWeb {
  /** Each served address with the surfaces on it, e.g. { url: 'http://127.0.0.1:1080', surfaces: ['/', '/admin/'] }. */
  addresses: Array<{ url: string; surfaces: string[] }>;
  close(): Promise<void>;
}

const alpn = { alpn: ['http/1.1'] }; // HTTPS listeners answer tls-alpn-01 challenges (RFC 8737)

type WebService = 'accountHTTP' | 'accountHTTPS' | 'adminHTTP' | 'adminHTTPS' | 'autoconfigHTTPS' | 'mtastsHTTPS';
const services: readonly WebService[] = ['accountHTTP', 'accountHTTPS', 'adminHTTP', 'adminHTTPS', 'autoconfigHTTPS', 'mtastsHTTPS'];

export async function startWeb(o: WebOptions): Promise<RunningWeb> {
  const st: StaticConfig = o.config.static;
  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c();
  };
  try {
    // Surfaces are made only when some listener serves them.
    const wanted = (prefix: 'account' | 'admin') => Object.values(st.listeners).some((l) => l[`${prefix}HTTP`].enabled || l[`${prefix}HTTPS`].enabled);
    const account = wanted('account') ? await accountSurface(o) : undefined;
    if (account) closers.push(account.close);
    const admin = wanted('admin') ? await adminSurface(o) : undefined;
    if (admin) closers.push(admin.close);
    const sources = { static: () => st, domains: o.domains };
    const surfacesOf = (service: WebService, path: string): Surface[] => {
      if (service === 'autoconfigHTTPS') return autoconfigSurfaces(sources);
      if (service === 'mtastsHTTPS') return mtaStsSurfaces(sources);
      return [{ path, handler: (service.startsWith('account') ? account : admin)!.handler }];
    };
    const byAddress = new Map<string, HttpListener>();
    for (const l of Object.values(st.listeners)) {
      let tls: TlsConfig | undefined;
      for (const service of services) {
        const svc = l[service];
        if (!svc.enabled) continue;
        const https = service.endsWith('HTTPS');
        if (https && !l.tls) throw new Error(`listener serves ${service} without tls`); // config test refuses this already
        if (https && !tls) {
          const t = await loadListenerTls({ tls: l.tls!, hostname: l.hostname ?? st.hostname, ips: l.ips, configDir: dirname(o.config.paths.static), dataDir: o.config.paths.dataDir });
          tls = t;
          closers.push(() => t.close());
        }
        const path = 'path' in svc ? svc.path : '/';
        for (const ip of l.ips) {
          const key = `${ip}|${svc.port}`;
          let listener = byAddress.get(key);
          if (!listener) {
            const t = https ? tls : undefined;
            listener = { ip, port: svc.port, surfaces: [], ...(t ? { tls: t.serverOptions(alpn), tlsUpdates: (apply: (o: TlsOptions) => void) => keepDefaultCertificate({ setSecureContext: apply }, t, alpn) } : {}), ...('forwarded' in svc && svc.forwarded ? { forwarded: true } : {}) };
            byAddress.set(key, listener);
          } else if ((listener.tls !== undefined) !== https) throw new Error(`port ${svc.port} on ${ip} is configured for both HTTP and HTTPS`);
          listener.surfaces.push(...surfacesOf(service, path));
        }
      }
    }
    const listeners = [...byAddress.values()];
    const servers: HttpServers = await startHttp({ listeners });
    closers.push(() => servers.close());
    return {
      addresses: listeners.map((l, i) => {
        const a = servers.addresses[i]!;
        const host = a.ip.includes(':') ? `[${a.ip}]` : a.ip;
        return { url: `${l.tls ? 'https' : 'http'}://${host}:${a.port}`, surfaces: l.surfaces.map((s) => s.path) };
      }),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
