// SCRAM server (RFC 5802; SHA-256: RFC 7677) with channel binding for the -PLUS variants:
// tls-exporter (RFC 9266, TLS 1.3) and tls-unique (RFC 5929, TLS 1.2). Verifies the client
// proof against the stored StoredKey and answers with the ServerSignature.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ScramHash } from './credentials.ts';
import { SaslError, lookup, text, type SaslContext, type SaslExchange } from './context.ts';

const fakeSaltSecret = randomBytes(32); // per process: unknown users get a stable fake salt (no user enumeration at step one)

/** saslname (RFC 5802 §5.1): "=2C" is ",", "=3D" is "="; any other "=" is an error. */
function decodeSaslname(s: string): string {
  if (/=(?!2C|3D)/.test(s)) throw new SaslError('malformed', 'bad saslname escape');
  return s.replaceAll('=2C', ',').replaceAll('=3D', '=');
}

/** Splits "a=b,c=d" attributes, keeping order (RFC 5802 §5.1). */
function attributes(s: string): Array<[string, string]> {
  return s.split(',').map((p) => {
    if (!/^[A-Za-z]=/.test(p)) throw new SaslError('malformed', `bad attribute ${JSON.stringify(p.slice(0, 20))}`);
    return [p[0]!, p.slice(2)];
  });
}

const printableNonce = /^[\x21-\x2b\x2d-\x7e]+$/; // RFC 5802 §5.1 printable, without ","

export function scramExchange(ctx: SaslContext, hash: ScramHash, plus: boolean): SaslExchange {
  let stage = 0;
  let gs2Header = '';
  let cbType: 'tls-unique' | 'tls-exporter' | undefined;
  let clientFirstBare = '';
  let serverFirst = '';
  let nonce = '';
  let username = '';
  let found: Awaited<ReturnType<typeof lookup>>;
  return {
    async step(response) {
      if (stage === 0) {
        if (response === undefined) return { kind: 'challenge', data: Buffer.alloc(0) }; // RFC 4422 §5: ask for the client-first message
        stage = 1;
        const m = /^(n|y|p=[A-Za-z0-9.-]+),(a=[^,]*)?,(.*)$/s.exec(text(response)); // RFC 5802 §7 gs2-header
        if (!m) throw new SaslError('malformed', 'bad gs2 header');
        const flag = m[1]!;
        gs2Header = `${flag},${m[2] ?? ''},`;
        clientFirstBare = m[3]!;
        if (plus) {
          if (!flag.startsWith('p=')) throw new SaslError('authfailed', 'SCRAM-PLUS needs channel binding'); // RFC 5802 §6
          const type = flag.slice(2);
          if (type !== 'tls-unique' && type !== 'tls-exporter') throw new SaslError('authfailed', `channel binding type ${type} not supported`);
          cbType = type;
        } else {
          if (flag.startsWith('p=')) throw new SaslError('malformed', 'channel binding with a non-PLUS mechanism'); // RFC 5802 §6
          if (flag === 'y' && ctx.tls) throw new SaslError('authfailed', 'client thinks we do not support channel binding: downgrade'); // RFC 5802 §6: we offered -PLUS over TLS
        }
        const attrs = attributes(clientFirstBare);
        if (attrs[0]?.[0] === 'm') throw new SaslError('malformed', 'mandatory extension not supported'); // RFC 5802 §5.1 m=
        const n = attrs[0];
        const r = attrs[1];
        if (n?.[0] !== 'n' || r?.[0] !== 'r' || !printableNonce.test(r[1])) throw new SaslError('malformed', 'client-first needs n= and r=');
        username = decodeSaslname(n[1]);
        const authzid = m[2] ? decodeSaslname(m[2].slice(2)) : '';
        if (authzid !== '' && authzid !== username) throw new SaslError('authfailed', 'authorization identity differs from the user');
        found = await lookup(ctx, username);
        const creds = found?.credentials.scram[hash];
        const salt = creds ? creds.salt : createHmac('sha256', fakeSaltSecret).update(username).digest().subarray(0, 16).toString('base64');
        const iterations = creds ? creds.iterations : 4096;
        nonce = r[1] + (ctx.nonce?.() ?? randomBytes(18).toString('base64'));
        serverFirst = `r=${nonce},s=${salt},i=${iterations}`;
        return { kind: 'challenge', data: Buffer.from(serverFirst) };
      }
      if (stage === 1) {
        stage = 2;
        const clientFinal = text(response ?? Buffer.alloc(0));
        const p = clientFinal.lastIndexOf(',p=');
        if (p < 0) throw new SaslError('malformed', 'client-final without proof');
        const withoutProof = clientFinal.slice(0, p);
        const attrs = attributes(withoutProof);
        const c = attrs[0];
        const r = attrs[1];
        if (c?.[0] !== 'c' || r?.[0] !== 'r') throw new SaslError('malformed', 'client-final needs c= and r=');
        if (r[1] !== nonce) throw new SaslError('authfailed', 'wrong nonce');
        let cbData: Buffer = Buffer.alloc(0);
        if (cbType) {
          const data = ctx.tls?.channelBinding(cbType);
          if (!data) throw new SaslError('authfailed', `channel binding ${cbType} not available on this connection`);
          cbData = data;
        }
        const expected = Buffer.concat([Buffer.from(gs2Header), cbData]).toString('base64');
        if (c[1] !== expected) throw new SaslError('authfailed', 'channel binding data does not match'); // RFC 5802 §5.1 c=
        const proof = Buffer.from(clientFinal.slice(p + 3), 'base64');
        const creds = found?.credentials.scram[hash];
        const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`; // RFC 5802 §3
        if (!found || !creds) throw new SaslError('authfailed', `unknown user ${JSON.stringify(username)}`);
        const storedKey = Buffer.from(creds.storedKey, 'base64');
        const signature = createHmac(hash, storedKey).update(authMessage).digest();
        if (proof.length !== signature.length) throw new SaslError('authfailed', 'bad proof');
        const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
        if (!timingSafeEqual(createHash(hash).update(clientKey).digest(), storedKey)) throw new SaslError('authfailed', `bad proof for ${JSON.stringify(username)}`);
        const serverSignature = createHmac(hash, Buffer.from(creds.serverKey, 'base64')).update(authMessage).digest();
        return { kind: 'success', account: found.account, username, data: Buffer.from(`v=${serverSignature.toString('base64')}`) };
      }
      throw new SaslError('malformed', 'exchange already finished');
    },
  };
}
