// Server side of the SASL mechanisms (RFC 4422): PLAIN (RFC 4616), LOGIN
// (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195), SCRAM-SHA-1/-256 and -PLUS
// (scram.ts), EXTERNAL (RFC 4422 Appendix A) with TLS client public keys. Protocol
// framing (base64, "*" cancel, 334/+ continuation) is the protocol server's job.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { cramMD5Digest, deriveCredentials, verifyPassword, type StoredCredentials } from './credentials.ts';
import { scramExchange } from './scram.ts';
import { SaslError, lookup, text, type SaslContext, type SaslExchange, type SaslStep } from './context.ts';

export type SaslMechanism = 'PLAIN' | 'LOGIN' | 'CRAM-MD5' | 'SCRAM-SHA-1' | 'SCRAM-SHA-256' | 'SCRAM-SHA-1-PLUS' | 'SCRAM-SHA-256-PLUS' | 'EXTERNAL';

/** Mechanisms to offer, strongest first: -PLUS only over TLS, plaintext ones only when allowed, EXTERNAL with a client key. */
export function offeredMechanisms(o: { tls: boolean; allowPlaintext: boolean; external: boolean }): SaslMechanism[] {
  const m: SaslMechanism[] = [];
  if (o.tls) m.push('SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS');
  m.push('SCRAM-SHA-256', 'SCRAM-SHA-1', 'CRAM-MD5');
  if (o.allowPlaintext) m.push('PLAIN', 'LOGIN');
  if (o.tls && o.external) m.push('EXTERNAL');
  return m;
}

/** Starts an exchange for a mechanism name (any case); SaslError('unsupported') for an unknown one. */
export function startSasl(mechanism: string, ctx: SaslContext): SaslExchange {
  switch (mechanism.toUpperCase()) {
    case 'PLAIN': return plain(ctx);
    case 'LOGIN': return login(ctx);
    case 'CRAM-MD5': return cramMD5(ctx);
    case 'SCRAM-SHA-1': return scramExchange(ctx, 'sha1', false);
    case 'SCRAM-SHA-256': return scramExchange(ctx, 'sha256', false);
    case 'SCRAM-SHA-1-PLUS': return scramExchange(ctx, 'sha1', true);
    case 'SCRAM-SHA-256-PLUS': return scramExchange(ctx, 'sha256', true);
    case 'EXTERNAL': return external(ctx);
    default: throw new SaslError('unsupported', `mechanism ${mechanism} not supported`);
  }
}

let unknownUser: Promise<StoredCredentials> | undefined;

/**
 * Checks a password against stored credentials; without credentials (an unknown user, or
 * one without a password) it does the same scrypt work against a dummy and says no, so the
 * answer's timing does not tell which accounts exist. SASL and the web logins use it.
 */
export async function checkCredentials(credentials: StoredCredentials | undefined, password: string): Promise<boolean> {
  const ok = await verifyPassword(credentials ?? (await (unknownUser ??= deriveCredentials(randomBytes(24).toString('base64')))), password);
  return credentials !== undefined && ok;
}

async function checkPassword(ctx: SaslContext, username: string, password: string): Promise<SaslStep> {
  const found = await lookup(ctx, username);
  const ok = await checkCredentials(found?.credentials, password);
  if (!found || !ok) throw new SaslError('authfailed', `bad credentials for ${JSON.stringify(username)}`);
  return { kind: 'success', account: found.account, username };
}

/** RFC 4616 §2: [authzid] NUL authcid NUL passwd; authzid must be empty or the same user (no proxy logins). */
function plain(ctx: SaslContext): SaslExchange {
  let asked = false;
  return {
    async step(response) {
      if (response === undefined) {
        if (asked) throw new SaslError('malformed', 'missing response');
        asked = true;
        return { kind: 'challenge', data: Buffer.alloc(0) }; // RFC 4422 §5: empty challenge asks for the initial response
      }
      const parts = text(response).split('\0');
      if (parts.length !== 3) throw new SaslError('malformed', 'PLAIN needs authzid NUL authcid NUL password');
      const [authzid, authcid, password] = parts as [string, string, string];
      if (authcid === '' || password === '') throw new SaslError('malformed', 'empty user name or password');
      if (authzid !== '' && authzid !== authcid) throw new SaslError('authfailed', 'authorization identity differs from the user'); // RFC 4616 §2
      return checkPassword(ctx, authcid, password);
    },
  };
}

/** draft-murchison-sasl-login §2: challenges "Username:" and "Password:"; an initial response is the user name. */
function login(ctx: SaslContext): SaslExchange {
  let username: string | undefined;
  let stage = 0;
  return {
    async step(response) {
      if (stage === 0 && response === undefined) {
        stage = 1;
        return { kind: 'challenge', data: Buffer.from('Username:') };
      }
      if (stage <= 1) {
        username = text(response ?? Buffer.alloc(0));
        if (username === '') throw new SaslError('malformed', 'empty user name');
        stage = 2;
        return { kind: 'challenge', data: Buffer.from('Password:') };
      }
      return checkPassword(ctx, username!, text(response ?? Buffer.alloc(0)));
    },
  };
}

/** RFC 2195 §2: challenge "<random.time@host>", response "user SP hex(HMAC-MD5(password, challenge))". */
function cramMD5(ctx: SaslContext): SaslExchange {
  const challenge = Buffer.from(`<${randomBytes(8).readBigUInt64BE()}.${Date.now()}@${ctx.hostname ?? 'localhost'}>`);
  let sent = false;
  return {
    async step(response) {
      if (!sent) {
        if (response !== undefined && response.length > 0) throw new SaslError('malformed', 'CRAM-MD5 has no initial response');
        sent = true;
        return { kind: 'challenge', data: challenge };
      }
      const m = /^(.+) ([0-9a-f]{32})$/.exec(text(response ?? Buffer.alloc(0)));
      if (!m) throw new SaslError('malformed', 'CRAM-MD5 response must be "user digest"');
      const found = await lookup(ctx, m[1]!);
      const want = found ? cramMD5Digest(found.credentials, challenge) : randomBytes(16);
      if (!found || !timingSafeEqual(want, Buffer.from(m[2]!, 'hex'))) throw new SaslError('authfailed', `bad CRAM-MD5 digest for ${JSON.stringify(m[1])}`);
      return { kind: 'success', account: found.account, username: m[1]! };
    },
  };
}

/** RFC 4422 Appendix A: the identity is the TLS client public key; the message is an authzid or empty. */
function external(ctx: SaslContext): SaslExchange {
  let asked = false;
  return {
    async step(response) {
      if (response === undefined && !asked) {
        asked = true;
        return { kind: 'challenge', data: Buffer.alloc(0) };
      }
      const authzid = text(response ?? Buffer.alloc(0));
      const fp = ctx.tls?.clientKeyFingerprint;
      if (!fp || !ctx.lookupPublicKey) throw new SaslError('authfailed', 'no TLS client certificate');
      let key;
      try {
        key = await ctx.lookupPublicKey(fp);
      } catch (e) {
        throw new SaslError('temporary', `public key lookup failed: ${(e as Error).message}`);
      }
      if (!key) throw new SaslError('authfailed', 'TLS client public key not registered');
      if (authzid !== '' && authzid !== key.loginAddress && authzid !== key.account) throw new SaslError('authfailed', 'authorization identity does not match the public key');
      return { kind: 'success', account: key.account, username: key.loginAddress };
    },
  };
}
