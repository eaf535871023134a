// IMAP listeners: 143 (STARTTLS) and 993 (implicit TLS, RFC 8314 §3.3). Connection limits
// per IP before a session starts; PREAUTH for a known TLS client certificate on 993.
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { gauge, counter } from '../metrics/index.ts';
import { logger } from '../log/index.ts';
import { ConcurrencyLimiter } from '../ratelimit/index.ts';
import { clientKeyFingerprint, keepDefaultCertificate, type TlsConfig } from '../tls/index.ts';
import type { ImapContext, ImapService } from './context.ts';
import { Session } from './session.ts';
import './commands.ts';
import { listenOn } from '../conn/listen.ts';

const log = logger('imapserver');
const connectionsOpen = gauge('mailcove_imap_connections', 'Open IMAP connections.', ['service']);
const connectionsTotal = counter('mailcove_imap_connections_total', 'IMAP connections by service and outcome.', ['service', 'outcome']);

export interface ImapListenerSpec {
  service: ImapService;
  ip: string;
  port: number; // 0: any free port
  hostname: string;
  tls: TlsConfig | undefined; // required for imaps
}

export interface ImapServers {
  addresses: Array<{ service: ImapService; ip: string; port: number }>;
  /** Stops listening, says BYE to sessions and waits (up to graceMs) for them to end. */
  close(graceMs?: number): Promise<void>;
}

export async function startImapServers(ctx: ImapContext, specs: readonly ImapListenerSpec[]): Promise<ImapServers> {
  const limit = ctx.limits.maxConnectionsPerIP;
  const perIP = limit > 0 ? new ConcurrencyLimiter([limit, limit * 3, limit * 9]) : undefined;
  const sessions = new Set<Session>();
  const servers: Server[] = [];
  const addresses: ImapServers['addresses'] = [];

  const accept = async (spec: ImapListenerSpec, socket: Socket | TLSSocket, secure: boolean) => {
    socket.on('error', (e) => log.debug({ err: e.message }, 'socket error'));
    socket.setNoDelay(true); // responses are written whole per command: Nagle would hold the tagged line behind the client's delayed ACK (43 ms p50 IDLE/DONE in bench/imap.ts)
    const listener = { service: spec.service, tls: spec.tls, hostname: spec.hostname };
    const tls = secure ? { socket: socket as TLSSocket, version: (socket as TLSSocket).getProtocol() ?? '' } : undefined;
    const session = new Session(ctx, listener, socket, tls);
    const ip = session.remoteIP;
    sessions.add(session);
    connectionsOpen.inc({ service: spec.service });
    const acquired = !perIP || perIP.acquire(ip);
    let greeting: { status: 'OK' | 'PREAUTH' | 'BYE'; code?: string; text: string } = { status: 'OK', text: `${spec.hostname} Mailcove IMAP ready` };
    if (!acquired) greeting = { status: 'BYE', code: 'UNAVAILABLE', text: 'too many connections from your address' }; // RFC 9051 §7.1.5
    else if (tls) {
      // Issue 4: a registered client certificate logs in at once (PREAUTH, RFC 9051 §7.1.4) unless its key says not to.
      const fp = clientKeyFingerprint(tls.socket);
      const key = fp ? await ctx.store.auth.getTlsPublicKey(fp).catch(() => undefined) : undefined;
      if (key && !key.noIMAPPreauth && !ctx.domains().accounts[key.account]?.loginDisabled) {
        await session.login(key.account, key.loginAddress);
        session.preauth = true;
        greeting = { status: 'PREAUTH', text: `${spec.hostname} Mailcove IMAP, logged in as ${key.loginAddress} by TLS client certificate` };
      }
    }
    connectionsTotal.inc({ service: spec.service, outcome: acquired ? 'accepted' : 'refused' });
    await session.run(greeting).finally(() => {
      sessions.delete(session);
      connectionsOpen.dec({ service: spec.service });
      if (acquired) perIP?.release(ip);
    });
  };
  const acceptSafely = (spec: ImapListenerSpec, socket: Socket | TLSSocket, secure: boolean) => {
    accept(spec, socket, secure).catch((e: unknown) => {
      log.error({ err: e }, 'accepting connection');
      socket.destroy();
    });
  };

  try {
    for (const spec of specs) {
      let server: Server;
      if (spec.service === 'imaps') {
        if (!spec.tls) throw new Error(`imaps on ${spec.ip}:${spec.port} needs a TLS certificate`);
        const tlsServer = createTlsServer(spec.tls.serverOptions(), (s) => acceptSafely(spec, s, true));
        tlsServer.once('close', keepDefaultCertificate(tlsServer, spec.tls)); // clients without SNI get a renewed certificate too
        tlsServer.on('tlsClientError', (e) => log.info({ err: e.message }, 'tls handshake failed'));
        server = tlsServer;
      } else server = createTcpServer((s) => acceptSafely(spec, s, false));
      server.on('error', (e) => log.error({ err: e }, 'listener error'));
      servers.push(server);
      server.listen(listenOn(spec.ip, spec.port));
      await once(server, 'listening');
      const addr = server.address();
      addresses.push({ service: spec.service, ip: spec.ip, port: typeof addr === 'object' && addr ? addr.port : spec.port });
    }
  } catch (e) {
    for (const s of servers) s.close();
    throw e;
  }
  log.info({ addresses }, 'imap listening');

  return {
    addresses,
    async close(graceMs = 5000) {
      for (const s of servers) s.close();
      for (const s of sessions) void s.shutdown();
      const deadline = Date.now() + graceMs;
      while (sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const s of sessions) s.destroy();
    },
  };
}
