// Commands valid in any state (RFC 9051 §6.1) and the connection-level ones: CAPABILITY,
// NOOP, LOGOUT, ID, ENABLE, STARTTLS, COMPRESS.
import { offeredMechanisms } from '../sasl/index.ts';
import { isLoopback } from '../conn/address.ts';
import { clientKeyFingerprint } from '../tls/index.ts';
import { bad, no } from './errors.ts';
import { str } from './encode.ts';
import type { CommandSpec, Session } from './session.ts';
import { version } from '../cli/version.ts';

// RFC 9051 §7.2.2 and the extensions' RFCs. Listed in every state after login; before it the client needs them too (SASL-IR, LITERAL+, ID).
const extensions = [
  'LITERAL+', // RFC 7888
  'ENABLE', // RFC 5161
  'IDLE', // RFC 2177
  'SASL-IR', // RFC 4959
  'BINARY', // RFC 3516
  'UNSELECT', // RFC 3691
  'UIDPLUS', // RFC 4315
  'ESEARCH', // RFC 4731
  'SEARCHRES', // RFC 5182
  'MOVE', // RFC 6851
  'UTF8=ACCEPT', // RFC 6855
  'LIST-EXTENDED', // RFC 5258
  'SPECIAL-USE', // RFC 6154
  'CREATE-SPECIAL-USE', // RFC 6154
  'LIST-STATUS', // RFC 5819
  'ID', // RFC 2971
  'CONDSTORE', // RFC 7162
  'QRESYNC', // RFC 7162
  'STATUS=SIZE', // RFC 8438
  'QUOTA', // RFC 9208
  'QUOTA=RES-STORAGE', // RFC 9208
  'METADATA', // RFC 5464
  'LIST-METADATA', // RFC 9590
  'SAVEDATE', // RFC 8514
  'WITHIN', // RFC 5032
  'NAMESPACE', // RFC 2342
  'MULTIAPPEND', // RFC 3502
  'REPLACE', // RFC 8508
  'PREVIEW', // RFC 8970
  'INPROGRESS', // RFC 9585
  'MULTISEARCH', // RFC 7377
  'NOTIFY', // RFC 5465
  'UIDONLY', // RFC 9586
];

/** Whether LOGIN and plaintext mechanisms may be used: over TLS, or in localserve on loopback. */
export function plaintextAllowed(s: Session): boolean {
  return !!s.tls || (s.ctx.localserve && isLoopback(s.remoteIP));
}


/** SASL mechanisms for AUTHENTICATE here (the LOGIN mechanism is not offered: the LOGIN command serves rev1 clients). */
export function imapMechanisms(s: Session): string[] {
  if (!plaintextAllowed(s)) return offeredMechanisms({ tls: false, allowPlaintext: false, external: false }).filter((m) => m !== 'LOGIN');
  return offeredMechanisms({ tls: !!s.tls, allowPlaintext: true, external: !!(s.tls && clientKeyFingerprint(s.tls.socket)) }).filter((m) => m !== 'LOGIN');
}

export function capabilities(s: Session): string {
  const caps = ['IMAP4rev2', 'IMAP4rev1'];
  if (s.state === 'notauth') {
    if (s.listener.tls && !s.tls) caps.push('STARTTLS'); // RFC 9051 §6.2.1
    if (!plaintextAllowed(s)) caps.push('LOGINDISABLED'); // RFC 9051 §6.2.3
    for (const m of imapMechanisms(s)) caps.push(`AUTH=${m}`);
  }
  caps.push(...extensions);
  caps.push(`APPENDLIMIT=${s.ctx.limits.maxMessage}`); // RFC 7889
  if (!s.compressed && s.state !== 'notauth') caps.push('COMPRESS=DEFLATE'); // RFC 4978
  return caps.join(' ');
}

export const anyStateCommands: Record<string, CommandSpec> = {
  CAPABILITY: {
    states: ['notauth', 'auth', 'selected'],
    async run(s, p) {
      p.end();
      s.untagged(`CAPABILITY ${capabilities(s)}`); // RFC 9051 §6.1.1
    },
  },
  NOOP: {
    states: ['notauth', 'auth', 'selected'],
    async run(s, p) {
      p.end(); // RFC 9051 §6.1.2: pending notifications go out after every command
    },
  },
  CHECK: {
    states: ['selected'],
    async run(s, p) {
      p.end(); // RFC 3501 §6.4.1: a NOOP here, every write is durable when acknowledged
    },
  },
  LOGOUT: {
    states: ['notauth', 'auth', 'selected'],
    async run(s, p) {
      p.end();
      s.untagged('BYE logging out'); // RFC 9051 §6.1.3
      s.closing = true;
      s.state = 'logout';
    },
  },
  ID: {
    states: ['notauth', 'auth', 'selected'],
    async run(s, p) {
      p.sp();
      // RFC 2971 §3.3: NIL or a list of up to 30 field/value pairs.
      const fields: Record<string, string> = {};
      if (!p.takeKeyword('NIL')) {
        p.expect('(');
        if (!p.take(')')) {
          let n = 0;
          do {
            const k = p.string().toString('utf8');
            p.sp();
            const v = p.nstring();
            if (++n > 30) throw bad('too many ID fields'); // RFC 2971 §3.3
            if (k.length > 30 || (v && v.length > 1024)) throw bad('ID field too long'); // RFC 2971 §3.3
            fields[k] = v ? v.toString('utf8') : '';
          } while (p.take(' '));
          p.expect(')');
        }
      }
      p.end();
      if (Object.keys(fields).length > 0) s.log.info({ id: fields }, 'client id');
      s.untagged('ID (', str('name', false), ' ', str('Mailcove', false), ' ', str('version', false), ' ', str(version(), false), ')');
    },
  },
  ENABLE: {
    states: ['auth'], // RFC 5161 §3.1; a selected state ENABLE is BAD (RFC 9051 §6.3.1)
    async run(s, p) {
      const asked: string[] = [];
      do {
        p.sp();
        asked.push(p.atom('a capability').toUpperCase());
      } while (!p.atEnd());
      p.end();
      const enabled: string[] = [];
      for (const c of asked) {
        const known = ['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT', 'IMAP4REV2', 'UIDONLY', 'METADATA'];
        if (!known.includes(c) || s.enabled.has(c)) continue; // RFC 5161 §3.1: unknown ones are ignored; already enabled ones not repeated
        s.enabled.add(c);
        if (c === 'QRESYNC') s.enabled.add('CONDSTORE'); // RFC 7162 §3.2.3
        enabled.push(c === 'IMAP4REV2' ? 'IMAP4rev2' : c);
      }
      s.untagged(`ENABLED${enabled.map((c) => ' ' + c).join('')}`); // RFC 5161 §3.2
    },
  },
  STARTTLS: {
    states: ['notauth'],
    async run(s, p, c) {
      p.end();
      if (!s.listener.tls) throw bad('STARTTLS not available here');
      if (s.tls) throw bad('TLS already active');
      s.tagged(c.tag, 'OK', undefined, 'begin TLS negotiation now'); // RFC 9051 §6.2.1
      await s.flush();
      await s.startTls();
      return 'answered';
    },
  },
  COMPRESS: {
    states: ['auth', 'selected'],
    async run(s, p, c) {
      p.sp();
      const alg = p.atom('a compression algorithm').toUpperCase();
      p.end();
      if (alg !== 'DEFLATE') throw bad(`unknown compression algorithm ${alg}`); // RFC 4978 §3
      if (s.compressed) throw no('COMPRESSIONACTIVE', 'compression already active'); // RFC 4978 §3
      s.tagged(c.tag, 'OK', undefined, 'DEFLATE active');
      await s.flush();
      s.startCompression();
      return 'answered';
    },
  },
};
