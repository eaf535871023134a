// Test fixture for the TLS tests: a TLS server on 127.0.0.1 with given options, and a
// client connection to it that resolves once both ends finished the handshake.
import { connect, createServer, type ConnectionOptions, type TLSSocket, type TlsOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';

export interface TlsPair { client: TLSSocket; server: TLSSocket }

export interface TestServer {
  connect(options?: ConnectionOptions): Promise<TlsPair>;
  close(): Promise<void>;
}

export async function tlsServer(options: TlsOptions): Promise<TestServer> {
  const accepted: TLSSocket[] = [];
  const waiting: Array<(s: TLSSocket) => void> = [];
  const server = createServer(options, (s) => {
    s.on('error', () => {});
    const w = waiting.shift();
    if (w) w(s);
    else accepted.push(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const open = new Set<TLSSocket>();
  return {
    async connect(o = {}) {
      const client = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...o });
      open.add(client);
      client.on('close', () => open.delete(client));
      await once(client, 'secureConnect'); // rejects on the client's 'error'
      const server = accepted.shift() ?? (await new Promise<TLSSocket>((r) => waiting.push(r)));
      open.add(server);
      return { client, server };
    },
    async close() {
      for (const s of open) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
