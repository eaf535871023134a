// A SCRAM client (RFC 5802 §3, §5) for tests of the protocol servers: computes the
// client-first and client-final messages and checks the server signature.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { normalizePassword, scramKeys, scramSaltedPassword, type ScramHash } from './credentials.ts';

export interface ScramClient {
  first(): string;
  final(serverFirst: Buffer): Promise<string>;
  verify(serverFinal: Buffer): boolean;
}

export function scramClient(o: { hash: ScramHash; username: string; password: string; channelBinding?: { type: 'tls-exporter' | 'tls-unique'; data: Buffer }; nonce?: string; authzid?: string }): ScramClient {
  const cnonce = o.nonce ?? randomBytes(18).toString('base64');
  const gs2 = `${o.channelBinding ? `p=${o.channelBinding.type}` : 'n'},${o.authzid ? `a=${o.authzid}` : ''},`;
  const bare = `n=${o.username.replaceAll('=', '=3D').replaceAll(',', '=2C')},r=${cnonce}`;
  let serverSignature: Buffer | undefined;
  return {
    first: () => gs2 + bare,
    async final(serverFirstBuf) {
      const serverFirst = serverFirstBuf.toString();
      const attrs = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
      const salted = await scramSaltedPassword(o.hash, normalizePassword(o.password), Buffer.from(attrs['s'] ?? '', 'base64'), Number(attrs['i']));
      const { clientKey, storedKey, serverKey } = scramKeys(o.hash, salted);
      const withoutProof = `c=${Buffer.concat([Buffer.from(gs2), o.channelBinding?.data ?? Buffer.alloc(0)]).toString('base64')},r=${attrs['r']}`;
      const authMessage = `${bare},${serverFirst},${withoutProof}`;
      const signature = createHmac(o.hash, storedKey).update(authMessage).digest();
      serverSignature = createHmac(o.hash, serverKey).update(authMessage).digest();
      return `${withoutProof},p=${Buffer.from(clientKey.map((b, i) => b ^ signature[i]!)).toString('base64')}`;
    },
    verify(serverFinal) {
      const v = Buffer.from(serverFinal.toString().replace(/^v=/, ''), 'base64');
      return !!serverSignature && v.length === serverSignature.length && timingSafeEqual(v, serverSignature);
    },
  };
}
