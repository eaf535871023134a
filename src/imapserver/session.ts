// One IMAP connection: the command loop (read a command with its literals, look it up in
// the command table, check the state, run the handler, answer tagged), the output buffer,
// and the session's notifications: store changes arrive on the account's change feed and
// are told to the client only where RFC 9051 §7 allows (at the end of a command, never an
// EXPUNGE during FETCH, STORE or SEARCH; any time in IDLE or with NOTIFY).
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createDeflateRaw, createInflateRaw, constants as zlibConstants, type DeflateRaw } from 'node:zlib';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { countTlsConnection, countUncaughtError, counter, histogram } from '../metrics/index.ts';
import { logger, newCid, withCid } from '../log/index.ts';
import { Input } from '../conn/input.ts';
import { normalizeIP } from '../conn/address.ts';
import { serverHandshake } from '../conn/starttls.ts';
import type { Account, ChangeEvent, ModSeq, Uid } from '../store/index.ts';
import { isStoreError } from '../store/index.ts';
import type { ImapContext, ImapListener } from './context.ts';
import { ImapError, bad, isImapError } from './errors.ts';
import { Parser, type CommandPart } from './parser.ts';
import { CommandReader, disposeParts } from './reader.ts';
import { MailboxView, formatSet } from './view.ts';
import { decodeMutf7Lenient } from './mutf7.ts';
import { concat, flagList } from './encode.ts';
import { storeErrorToImap } from './storeerrors.ts';
import type { NotifySpec } from './notify.ts';

const log = logger('imapserver');
const commandCount = counter('mailcove_imap_commands_total', 'IMAP commands by name and result.', ['command', 'result']);
const commandSeconds = histogram<'command'>('mailcove_imap_command_duration_seconds', 'Time from an IMAP command to its tagged reply (IDLE not included: it lasts as long as the client wants).', ['command']);

export type ImapState = 'notauth' | 'auth' | 'selected' | 'logout';

export interface CommandCall {
  tag: string;
  name: string; // upper case, "UID FETCH" for UID forms
  uid: boolean; // a UID form (RFC 9051 §6.4.9), or a UIDONLY session (RFC 9586)
}

/** A handler's tagged OK: an optional response code and text. */
export interface Ok {
  code?: string;
  text?: string;
}

export interface CommandSpec {
  states: readonly ImapState[];
  /** 'answered': the handler wrote the tagged response itself (STARTTLS, COMPRESS, AUTHENTICATE). */
  run(s: Session, p: Parser, c: CommandCall): Promise<void | Ok | 'answered'>;
}

export interface TlsState {
  socket: TLSSocket;
  version: string;
}

export interface LoggedIn {
  name: string; // account
  username: string; // as the client logged in
  store: Account;
  stopFeed: () => void;
}

const maxPendingEvents = 200_000; // store changes waiting for one session: far above any burst a reading client lets build up
// RFC 9051 §7.5.1: no EXPUNGE while answering these (sequence numbers would shift under the client).
const holdsExpunges = new Set(['FETCH', 'STORE', 'SEARCH']);

export class Session {
  readonly cid: string;
  readonly log: Logger;
  readonly ctx: ImapContext;
  readonly listener: ImapListener;
  readonly remoteIP: string;
  readonly input: Input;
  readonly #raw: Socket | TLSSocket;
  #transport: Socket | TLSSocket; // what bytes go through (the TLS socket after STARTTLS)
  #sink: Writable; // where output goes: the transport, or a deflate stream in front of it (COMPRESS)
  #deflate: DeflateRaw | undefined;
  tls: TlsState | undefined;
  state: ImapState = 'notauth';
  account: LoggedIn | undefined;
  /** RFC 5161 ENABLE: CONDSTORE, QRESYNC, UTF8=ACCEPT, IMAP4REV2, UIDONLY, METADATA... */
  readonly enabled = new Set<string>();
  view: MailboxView | undefined;
  /** Mailbox keywords the client was told about in FLAGS (RFC 9051 §7.3.5). */
  knownKeywords = new Set<string>();
  notify: NotifySpec | undefined; // RFC 5465
  idling = false;
  /** Logged in by a TLS client certificate at connect (PREAUTH): AUTHENTICATE may still confirm the same account (issue 4). */
  preauth = false;
  closing = false;
  errors = 0;
  /** MODSEQs of this session's own flag changes, not echoed back as untagged FETCH (the command answered them). */
  readonly ownModseqs = new Set<ModSeq>();
  #pending: ChangeEvent[] = [];
  #commandRunning = false;
  #out: Buffer[] = [];
  #outBytes = 0;
  #delivering: Promise<void> = Promise.resolve();

  constructor(ctx: ImapContext, listener: ImapListener, socket: Socket | TLSSocket, tls: TlsState | undefined) {
    this.ctx = ctx;
    this.listener = listener;
    this.#raw = socket;
    this.#transport = socket;
    this.#sink = socket;
    this.tls = tls;
    if (tls) countTlsConnection('imap', tls.version);
    this.cid = newCid();
    this.remoteIP = normalizeIP(socket.remoteAddress ?? '');
    this.log = withCid(log, this.cid, { service: listener.service, remote: this.remoteIP });
    this.input = new Input(socket);
  }

  /** IMAP4rev2 (RFC 9051) behaviour: ESEARCH replies, no \Recent, UTF-8 names. */
  get rev2(): boolean {
    return this.enabled.has('IMAP4REV2');
  }

  /** Whether strings and mailbox names may be UTF-8 on this connection (RFC 9051 §4.3, RFC 6855). */
  get utf8(): boolean {
    return this.enabled.has('UTF8=ACCEPT') || this.rev2;
  }

  get condstore(): boolean {
    return this.enabled.has('CONDSTORE') || this.enabled.has('QRESYNC');
  }

  get qresync(): boolean {
    return this.enabled.has('QRESYNC');
  }

  /** COMPRESS=DEFLATE is active (RFC 4978). */
  get compressed(): boolean {
    return this.#deflate !== undefined;
  }

  get uidOnly(): boolean {
    return this.enabled.has('UIDONLY');
  }

  /** A CONDSTORE-enabling command (RFC 7162 §3.1): the first one in the selected state also tells HIGHESTMODSEQ. */
  enableCondstore(): void {
    if (this.condstore) return;
    this.enabled.add('CONDSTORE');
    if (this.view) this.untagged(`OK [HIGHESTMODSEQ ${this.view.highestModseq}] CONDSTORE enabled`);
  }

  // --- output

  /** Queues an untagged response ("* " is added). */
  untagged(...parts: (Buffer | string)[]): void {
    this.#push(concat(['* ', ...parts, '\r\n']));
  }

  /** Queues a raw line (CRLF added). */
  line(...parts: (Buffer | string)[]): void {
    this.#push(concat([...parts, '\r\n']));
  }

  /** Queues bytes as they are (for responses assembled elsewhere, with literals inside). */
  raw(b: Buffer): void {
    this.#push(b);
  }

  #push(b: Buffer): void {
    this.#out.push(b);
    this.#outBytes += b.length;
  }

  /** Queued output so far, for handlers that flush when it grows (big FETCH answers). */
  get queuedBytes(): number {
    return this.#outBytes;
  }

  tagged(tag: string, status: 'OK' | 'NO' | 'BAD', code: string | undefined, text: string): void {
    this.line(`${tag} ${status} ${code ? `[${code}] ` : ''}${text.replace(/[\r\n]+/g, ' ')}`);
  }

  /** Writes queued output; resolves when the transport took it (backpressure). */
  async flush(): Promise<void> {
    if (this.#out.length === 0 || this.#transport.destroyed) {
      this.#out = [];
      this.#outBytes = 0;
      return;
    }
    const data = this.#out.length === 1 ? this.#out[0]! : Buffer.concat(this.#out);
    this.#out = [];
    this.#outBytes = 0;
    this.#sink.write(data);
    if (this.#deflate) await new Promise<void>((resolve) => this.#deflate!.flush(zlibConstants.Z_SYNC_FLUSH, () => resolve())); // RFC 4978 §4: each response block is flushed
    // The flush callback runs after 'drain' may already have fired: wait only while the sink still asks for it (else a COMPRESS session stalled for good).
    if (this.#sink.writableNeedDrain) await this.#drained();
  }

  #drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#sink.off('drain', done);
        this.#transport.off('close', done);
        resolve();
      };
      this.#sink.on('drain', done);
      this.#transport.on('close', done);
    });
  }

  /** Writes a stream (a literal's bytes) after the queued output, with backpressure. */
  async stream(r: Readable): Promise<void> {
    await this.flush();
    for await (const chunk of r as AsyncIterable<Buffer>) {
      if (this.#transport.destroyed) {
        r.destroy();
        return;
      }
      this.#sink.write(chunk);
      if (this.#sink.writableNeedDrain) await this.#drained();
    }
  }

  /** A continuation request (RFC 9051 §7.5), written at once. */
  async continuation(text: string): Promise<void> {
    this.line(`+ ${text}`);
    await this.flush();
  }

  // --- the loop

  async run(greeting: { status: 'OK' | 'PREAUTH' | 'BYE'; code?: string; text: string }): Promise<void> {
    this.#setTimeout();
    const reader = new CommandReader(this.input, this.ctx.limits, this.ctx.spoolDir, () => this.continuation('Ready for literal data'));
    try {
      this.untagged(`${greeting.status} ${greeting.code ? `[${greeting.code}] ` : ''}${greeting.text}`);
      if (greeting.status === 'BYE') {
        this.closing = true;
        await this.flush();
        return;
      }
      while (!this.closing && !this.#transport.destroyed) {
        if (!this.input.hasLine()) {
          await this.#deliverIfAllowed();
          await this.flush();
        }
        const r = await reader.read();
        if (r.kind === 'eof') break;
        if (r.kind === 'refused') {
          this.#answerError(r.tag, r.error);
          if (r.close) await this.bye('closing connection after refused literal');
          else if (++this.errors > this.ctx.limits.maxErrors) await this.bye('too many errors');
          continue;
        }
        await this.#command(r.parts);
      }
      await this.flush();
    } catch (e) {
      if (!this.#transport.destroyed) {
        countUncaughtError('imap');
        this.log.error({ err: e }, 'unexpected error in session');
      }
    } finally {
      await this.#logout();
      this.#end();
    }
  }

  #setTimeout(): void {
    this.#raw.setTimeout(this.state === 'notauth' ? this.ctx.timeouts.preAuthMs : this.ctx.timeouts.idleMs, () => {
      this.log.info('timeout');
      this.untagged('BYE [UNAVAILABLE] autologout; idle for too long'); // RFC 9051 §7.1.5
      this.closing = true;
      void this.flush().finally(() => this.#end());
    });
  }

  #end(): void {
    if (this.#deflate) this.#deflate.end();
    this.#transport.end();
    this.#transport.destroySoon();
  }

  /** Server shutdown: an idle session (or one in IDLE) gets BYE at once; a running command finishes first and the loop then ends. */
  async shutdown(): Promise<void> {
    this.closing = true;
    if (this.#commandRunning && !this.idling) return;
    this.untagged('BYE [UNAVAILABLE] server shutting down'); // RFC 9051 §7.1.5
    await this.flush().catch(() => {});
    this.#end();
  }

  destroy(): void {
    this.#transport.destroy();
  }

  async bye(text: string): Promise<void> {
    this.untagged(`BYE ${text}`);
    this.closing = true;
    await this.flush();
  }

  async #command(parts: CommandPart[]): Promise<void> {
    let tag: string | undefined;
    let name = '?';
    this.#commandRunning = true;
    const started = performance.now();
    try {
      const p = new Parser(parts);
      tag = p.tag();
      p.sp();
      name = p.atom('a command name').toUpperCase();
      if (name === 'UID') {
        p.sp();
        name = `UID ${p.atom('a command name').toUpperCase()}`;
      }
      const spec = commands().get(name);
      if (!spec) throw bad(`unknown command ${name.slice(0, 40)}`);
      if (!spec.states.includes(this.state)) throw bad(`${name} not allowed ${stateText[this.state]}`); // RFC 9051 §6
      if (this.uidOnly && ['FETCH', 'STORE', 'SEARCH', 'COPY', 'MOVE'].includes(name)) throw new ImapError('BAD', 'UIDREQUIRED', 'UIDONLY is enabled: use the UID form'); // RFC 9586 §3
      const ok = await spec.run(this, p, { tag, name, uid: name.startsWith('UID ') || this.uidOnly });
      if (this.state !== 'logout') this.deliverPending(!holdsExpunges.has(name)); // nothing after BYE
      if (ok !== 'answered') {
        this.tagged(tag, 'OK', ok?.code, ok?.text ?? `${name} completed`);
      }
      commandCount.inc({ command: name, result: 'ok' });
      if (name !== 'IDLE') commandSeconds.observe({ command: name }, (performance.now() - started) / 1000);
    } catch (e) {
      let error: ImapError;
      if (isImapError(e)) error = e;
      else if (isStoreError(e)) error = storeErrorToImap(e);
      else {
        if (this.#transport.destroyed) return;
        // A bug or an unusable store: counted and logged with its stack; it ends this command only (STYLE.md).
        countUncaughtError('imap');
        this.log.error({ err: e, command: name }, 'unexpected error in command');
        error = new ImapError('NO', 'SERVERBUG', 'internal error, try again later'); // RFC 5530 §3
      }
      commandCount.inc({ command: commands().has(name) ? name : 'other', result: error.status });
      if (error.status !== 'BAD' && tag !== undefined) this.deliverPending(!holdsExpunges.has(name));
      this.#answerError(tag, error);
      if (error.status === 'BAD' && ++this.errors > this.ctx.limits.maxErrors) await this.bye('too many errors');
    } finally {
      this.#commandRunning = false;
      await disposeParts(parts);
    }
  }

  #answerError(tag: string | undefined, e: ImapError): void {
    if (e.status === 'BYE') {
      this.untagged(`BYE ${e.code ? `[${e.code}] ` : ''}${e.message}`);
      this.closing = true;
      return;
    }
    if (tag === undefined) this.untagged(`BAD ${e.code ? `[${e.code}] ` : ''}${e.message}`); // RFC 9051 §7.1.5: untagged BAD when the tag cannot be known
    else this.tagged(tag, e.status, e.code, e.message);
  }

  // --- login and logout

  /** Enters the authenticated state for an account. */
  async login(account: string, username: string): Promise<void> {
    const store = await this.ctx.store.openAccount(account);
    const stopFeed = store.changes.subscribe((ev) => this.#onChange(ev));
    this.account = { name: account, username, store, stopFeed };
    this.state = 'auth';
    this.#setTimeout();
    this.log.info({ account, username }, 'authenticated');
  }

  async #logout(): Promise<void> {
    const a = this.account;
    this.account = undefined;
    this.view = undefined;
    if (!a) return;
    a.stopFeed();
    await a.store.close().catch((e: unknown) => this.log.error({ err: e }, 'closing account'));
  }

  // --- TLS and COMPRESS

  /** STARTTLS (RFC 9051 §6.2.1): the handshake after the tagged OK was written. */
  async startTls(): Promise<void> {
    const config = this.listener.tls;
    if (!config) throw new Error('no TLS config');
    this.input.replaceSocket(undefined); // RFC 9051 §6.2.1: data sent before the handshake is discarded
    const secure = await serverHandshake(this.#transport, config.serverOptions());
    if (secure instanceof Error) {
      this.log.info({ err: secure.message }, 'tls handshake failed');
      this.closing = true;
      return;
    }
    secure.on('error', (e) => this.log.debug({ err: e.message }, 'tls socket error'));
    this.#transport = secure;
    this.#sink = secure;
    this.input.replaceSocket(secure);
    this.tls = { socket: secure, version: secure.getProtocol() ?? '' };
    countTlsConnection('imap', this.tls.version);
  }

  /** COMPRESS DEFLATE (RFC 4978 §3): from now on both directions are raw deflate streams. */
  startCompression(): void {
    const inflate = createInflateRaw();
    const deflate = createDeflateRaw({ level: 6 });
    const leftover = this.input.takeAll(); // a client must wait for the OK (RFC 4978 §3); anything already here is compressed
    this.input.replaceSocket(inflate);
    inflate.on('error', (e) => {
      this.log.info({ err: e.message }, 'bad compressed data');
      this.#transport.destroy();
    });
    this.#transport.pipe(inflate);
    if (leftover.length > 0) inflate.write(leftover);
    deflate.pipe(this.#transport);
    this.#sink = deflate;
    this.#deflate = deflate;
  }

  // --- mailbox names

  /** A mailbox name from the client: UTF-8 (IMAP4rev2, UTF8=ACCEPT) or modified UTF-7 (RFC 3501 §5.1.3); "INBOX" in any case is INBOX (RFC 9051 §5.1). */
  mailboxName(b: Buffer): string {
    let name: string;
    if (this.utf8 || b.some((c) => c >= 0x80)) {
      name = new TextDecoder('utf-8', { fatal: false }).decode(b);
      if (name.includes('\ufffd') && !b.includes(Buffer.from('\ufffd'))) throw bad('mailbox name is not valid UTF-8');
      if (!this.utf8 && name.includes('&')) name = lenientMutf7(name);
    } else name = lenientMutf7(b.toString('latin1'));
    name = name.normalize('NFC'); // RFC 9051 §5.1: names compare as NFC-normalized UTF-8 (RFC 5198)
    if (/^inbox$/i.test(name)) return 'INBOX';
    if (/^inbox\//i.test(name)) return 'INBOX' + name.slice(5);
    return name;
  }

  // --- notifications

  #onChange(ev: ChangeEvent): void {
    if (!this.view && !this.notify) return; // nothing selected, nothing asked for: no client needs it
    this.#pending.push(ev);
    if (this.#pending.length > maxPendingEvents) {
      // The client takes neither commands' answers nor notifications (its socket is full): no buffer without bound, it resynchronises when it reconnects.
      this.log.info({ pending: this.#pending.length }, 'client not reading its notifications, closing');
      this.#pending = [];
      this.#transport.destroy();
      return;
    }
    // IDLE and NOTIFY tell at once; a client that sits without commands gets its backlog told once it grows (EXISTS and FETCH may come at any time, RFC 9051 §7; EXPUNGE stays held), so memory stays bounded.
    if (this.idling || (!this.#commandRunning && (this.notify || this.#pending.length >= 1000))) {
      this.#delivering = this.#delivering.then(async () => {
        if (!this.idling && this.#commandRunning) return;
        this.deliverPending(this.idling || !!this.notify);
        await this.flush();
      }).catch((e: unknown) => this.log.debug({ err: e }, 'delivering notification'));
    }
  }

  async #deliverIfAllowed(): Promise<void> {
    if (this.notify) this.deliverPending(true);
  }

  /** Whether changes are waiting to be told (IDLE wakes on them). */
  get hasPending(): boolean {
    return this.#pending.length > 0;
  }

  /**
   * Tells the client the changes that arrived: EXISTS for new messages, FETCH for flag
   * changes by others, EXPUNGE/VANISHED when `expunges` is allowed (otherwise held in the
   * view), and with NOTIFY (RFC 5465) STATUS/LIST for other mailboxes.
   */
  deliverPending(expunges: boolean): void {
    const events = this.#pending;
    this.#pending = [];
    const v = this.view;
    let added = false;
    const flagUpdates = new Map<Uid, ChangeEvent & { type: 'flags' }>();
    for (const ev of events) {
      if (v && ev.mailbox === v.name && 'uidValidity' in ev && ev.uidValidity === v.uidValidity) {
        if (ev.modseq > v.highestModseq) v.highestModseq = ev.modseq;
        if (ev.type === 'added') {
          if (ev.uid > (v.uids[v.uids.length - 1] ?? 0)) {
            v.add(ev.uid);
            added = true;
            if (!this.rev2 && !v.readOnly && this.ctx.recent.claim(this.account!.name, v.name, v.uidValidity, ev.uid) !== 0) v.recent.add(ev.uid);
            this.noteKeywords(ev.keywords);
          }
        } else if (ev.type === 'flags') {
          if (!this.ownModseqs.has(ev.modseq) && v.has(ev.uid) && !v.toldSince(ev.uid, ev.modseq)) flagUpdates.set(ev.uid, ev);
        } else if (ev.type === 'expunged') {
          for (const u of ev.uids) if (v.has(u)) v.expungedPending.add(u);
        } else if (ev.type === 'mailboxDeleted') {
          // The selected mailbox is gone (another session deleted it): nothing more can be done with it.
          this.untagged('BYE [CLOSED] selected mailbox was deleted');
          this.closing = true;
          return;
        }
      } else if (v && ev.type === 'mailboxRenamed' && ev.from === v.name && ev.uidValidity === v.uidValidity) {
        v.name = ev.mailbox; // RFC 9051 §6.3.6: the session stays in the renamed mailbox
      }
      if (this.notify) this.notify.onEvent(this, ev);
    }
    this.ownModseqs.clear();
    if (!v) return;
    if (expunges && v.expungedPending.size > 0) this.tellExpunged([...v.expungedPending]);
    if (added) {
      // Before any FETCH that may name the new sequence numbers (RFC 9051 §7.4.1: the client must know the message exists).
      this.untagged(`${v.count} EXISTS`);
      if (!this.rev2) this.untagged(`${v.recent.size} RECENT`); // RFC 3501 §7.3.2
    }
    for (const ev of flagUpdates.values()) {
      const seq = v.seqOf(ev.uid);
      if (seq === 0) continue;
      v.noteModseq(ev.uid, ev.modseq);
      this.noteKeywords(ev.keywords);
      this.untagged(this.fetchPrefix(seq, ev.uid), `(${this.uidOnly ? '' : `UID ${ev.uid} `}FLAGS ${flagList(this.flagsOf(ev.uid, ev.flags, ev.keywords))}${this.condstore ? ` MODSEQ (${ev.modseq})` : ''})`); // RFC 7162 §3.2.4: MODSEQ with CONDSTORE; QRESYNC needs UID
    }
  }

  /** "* seq FETCH" or, for UIDONLY sessions, "* uid UIDFETCH" (RFC 9586 §3.2). */
  fetchPrefix(seq: number, uid: Uid): string {
    return this.uidOnly ? `${uid} UIDFETCH ` : `${seq} FETCH `;
  }

  /** Tells expunged UIDs: VANISHED with QRESYNC or UIDONLY (RFC 7162 §3.2.10, RFC 9586), else one EXPUNGE each, highest first. */
  tellExpunged(uids: Uid[]): void {
    const v = this.view;
    if (!v) return;
    const present = uids.filter((u) => v.has(u)).sort((a, b) => a - b);
    if (present.length === 0) return;
    if (this.qresync || this.uidOnly) {
      v.remove(present);
      this.untagged(`VANISHED ${formatSet(present)}`);
      return;
    }
    for (const seq of v.remove(present)) this.untagged(`${seq} EXPUNGE`); // RFC 9051 §7.5.1
  }

  /** The flags to show for a message: stored flags and keywords, plus \Recent for rev1 sessions. */
  flagsOf(uid: Uid, flags: readonly string[], keywords: readonly string[]): string[] {
    const out = [...flags, ...keywords];
    if (!this.rev2 && this.view?.recent.has(uid)) out.push('\\Recent');
    return out;
  }

  /** Sends FLAGS and PERMANENTFLAGS again when a keyword appears that the client was not told about (RFC 9051 §7.3.5). */
  noteKeywords(keywords: readonly string[]): void {
    let changed = false;
    for (const k of keywords) {
      if (!this.knownKeywords.has(k)) {
        this.knownKeywords.add(k);
        changed = true;
      }
    }
    if (changed) this.sendFlags();
  }

  sendFlags(): void {
    const kw = [...this.knownKeywords];
    this.untagged(`FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft${kw.map((k) => ' ' + k).join('')})`); // RFC 9051 §7.3.5
    if (this.view) this.untagged(`OK [PERMANENTFLAGS ${this.view.readOnly ? '()' : `(\\Seen \\Answered \\Flagged \\Deleted \\Draft${kw.map((k) => ' ' + k).join('')} \\*)`}] flags permitted`); // RFC 9051 §7.1
  }
}

const stateText: Record<ImapState, string> = {
  notauth: 'before authentication',
  auth: 'without a selected mailbox',
  selected: 'with a selected mailbox',
  logout: 'after LOGOUT',
};

/** A name that is not valid modified UTF-7 is taken as written (it names no existing mailbox then, so SELECT answers NO, as Dovecot does); CREATE and RENAME check it strictly. */
const lenientMutf7 = decodeMutf7Lenient;


// The command table is built from the handler modules (commands.ts), which import Session; a function avoids the import cycle at load time.
let table: Map<string, CommandSpec> | undefined;
export function setCommands(t: Map<string, CommandSpec>): void {
  table = t;
}
function commands(): Map<string, CommandSpec> {
  if (!table) throw new Error('IMAP command table not loaded');
  return table;
}
