// SMTP listeners: MX (smtp, STARTTLS), submission (STARTTLS) and submissions (implicit
// TLS, RFC 8314 §3.3). Enforces connection limits per IP before a session starts.
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { gauge, counter } from '../metrics/index.ts';
import { logger } from '../log/index.ts';
import { keepDefaultCertificate, type TlsConfig } from '../tls/index.ts';
import type { SmtpContext, SmtpService } from './context.ts';
import { Session, tlsState } from './session.ts';
import { listenOn } from '../conn/listen.ts';

const log = logger('smtpserver');
const connectionsOpen = gauge('mailcove_smtp_connections', 'Open SMTP connections.', ['service']);
const connectionsTotal = counter('mailcove_smtp_connections_total', 'SMTP connections by service and outcome.', ['service', 'outcome']);

export interface SmtpListenerSpec {
  service: SmtpService;
  ip: string;
  port: number; // 0: any free port
  hostname: string;
  tls: TlsConfig | undefined; // required for submissions
}

export interface SmtpServers {
  /** Bound addresses, in the order of the specs. */
  addresses: Array<{ service: SmtpService; ip: string; port: number }>;
  /** Stops listening, tells idle sessions 421 and waits (up to graceMs) for sessions to end. */
  close(graceMs?: number): Promise<void>;
}

export async function startSmtpServers(ctx: SmtpContext, specs: readonly SmtpListenerSpec[]): Promise<SmtpServers> {
  const perIP = new Map<string, number>();
  const sessions = new Set<Session>();
  const servers: Server[] = [];
  const addresses: SmtpServers['addresses'] = [];

  const accept = (spec: SmtpListenerSpec, socket: Socket | TLSSocket, secure: boolean) => {
    socket.on('error', (e) => log.debug({ err: e.message }, 'socket error'));
    const listener = { service: spec.service, tls: spec.tls, hostname: spec.hostname };
    const session = new Session(ctx, listener, socket, secure ? tlsState(socket as TLSSocket) : undefined);
    const ip = session.remoteIP;
    const count = (perIP.get(ip) ?? 0) + 1;
    perIP.set(ip, count);
    sessions.add(session);
    connectionsOpen.inc({ service: spec.service });
    let greeting = { code: 220, enhanced: undefined as string | undefined, text: `${spec.hostname} ESMTP Mailcove` }; // RFC 5321 §4.3.1
    const limits = ctx.rateLimits;
    if (count > ctx.limits.maxConnectionsPerIP || (limits && spec.service === 'smtp' && !limits.concurrent.acquire(ip))) {
      greeting = { code: 421, enhanced: '4.7.0', text: `${spec.hostname} too many connections from your address, try again later` }; // RFC 5321 §3.8
    } else if (limits && spec.service === 'smtp' && !limits.connections.add(ip)) {
      limits.concurrent.release(ip);
      greeting = { code: 421, enhanced: '4.7.0', text: `${spec.hostname} too many connections from your network, try again later` };
    }
    const acquired = greeting.code === 220 && !!limits && spec.service === 'smtp';
    connectionsTotal.inc({ service: spec.service, outcome: greeting.code === 220 ? 'accepted' : 'refused' });
    session.log.debug({ secure }, 'connection');
    void session.run(greeting).finally(() => {
      sessions.delete(session);
      connectionsOpen.dec({ service: spec.service });
      const n = (perIP.get(ip) ?? 1) - 1;
      if (n <= 0) perIP.delete(ip);
      else perIP.set(ip, n);
      if (acquired) limits.concurrent.release(ip);
    });
  };

  try {
    for (const spec of specs) {
      let server: Server;
      if (spec.service === 'submissions') {
        if (!spec.tls) throw new Error(`submissions on ${spec.ip}:${spec.port} needs a TLS certificate`);
        const tlsServer = createTlsServer(spec.tls.serverOptions(), (s) => accept(spec, s, true));
        tlsServer.once('close', keepDefaultCertificate(tlsServer, spec.tls)); // clients without SNI get a renewed certificate too
        tlsServer.on('tlsClientError', (e) => log.info({ err: e.message }, 'tls handshake failed'));
        server = tlsServer;
      } else {
        server = createTcpServer((s) => accept(spec, s, false));
      }
      server.on('error', (e) => log.error({ err: e }, 'listener error'));
      servers.push(server);
      server.listen(listenOn(spec.ip, spec.port));
      await once(server, 'listening');
      const a = server.address();
      addresses.push({ service: spec.service, ip: spec.ip, port: typeof a === 'object' && a ? a.port : spec.port });
      log.info({ service: spec.service, ip: spec.ip, port: addresses.at(-1)!.port }, 'listening');
    }
  } catch (e) {
    for (const s of servers) s.close();
    throw e;
  }

  return {
    addresses,
    async close(graceMs = 2000) {
      const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))); // resolves once every connection ended
      for (const s of sessions) if (!s.tx) void s.close(421, '4.3.2', 'shutting down').catch(() => {}); // RFC 3463 4.3.2 system not accepting messages
      const deadline = Date.now() + graceMs;
      while (sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const s of sessions) s.socket.destroy();
      await closed;
    },
  };
}
