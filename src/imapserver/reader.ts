// Reading one IMAP command from the connection: its line, and for each literal at a line's
// end (RFC 9051 §4.3, RFC 7888 LITERAL+, RFC 3516 literal8) the decision whether to take
// it, the continuation request for synchronizing literals, and its bytes (in memory, or a
// spool file when large so APPEND of a 100 MiB message stays out of the heap).
import { open, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { Input } from '../conn/input.ts';
import { ImapError, bad } from './errors.ts';
import type { CommandPart, Literal } from './parser.ts';

export interface ReaderLimits {
  maxLine: number; // bytes of one line (without literals)
  maxCommand: number; // bytes of a command's text and in-memory literals, APPEND data aside
  maxMessage: number; // APPENDLIMIT (RFC 7889)
  memoryLiteral: number; // literals up to this size stay in memory (message literals only; others always do)
}

export type ReadResult =
  | { kind: 'command'; parts: CommandPart[] }
  /** The command could not be read completely: answer `tag` (if known) with the error; `close` ends the connection. */
  | { kind: 'refused'; tag: string | undefined; error: ImapError; close: boolean }
  | { kind: 'eof' };

const literalMarker = /(~?)\{(\d{1,20})(\+?)\}$/;
const messageCommands = new Set(['APPEND', 'REPLACE', 'UID REPLACE']); // RFC 9051 §6.3.12, RFC 8508: message literals may be large

/** The tag and command name from a command's first line, when they are readable. */
function head(line: Buffer): { tag: string | undefined; command: string } {
  const m = /^([^\s(){%*"\\+]+) (UID )?([A-Za-z]+)/i.exec(line.subarray(0, 200).toString('latin1'));
  if (!m) return { tag: /^([^\s(){%*"\\+]+)/.exec(line.subarray(0, 200).toString('latin1'))?.[1], command: '' };
  return { tag: m[1], command: ((m[2] ?? '') + m[3]!).toUpperCase() };
}

export class CommandReader {
  readonly #input: Input;
  readonly #limits: ReaderLimits;
  readonly #spoolDir: string;
  readonly #continuation: () => Promise<void>;

  constructor(input: Input, limits: ReaderLimits, spoolDir: string, continuation: () => Promise<void>) {
    this.#input = input;
    this.#limits = limits;
    this.#spoolDir = spoolDir;
    this.#continuation = continuation;
  }

  async read(): Promise<ReadResult> {
    const parts: CommandPart[] = [];
    let total = 0;
    let inMemory = 0; // message literal bytes held in memory by this command
    let messageBytes = 0; // all message literal bytes of this command (MULTIAPPEND)
    let tag: string | undefined;
    let command = '';
    for (;;) {
      const line = await this.#input.line(this.#limits.maxLine);
      if (line === undefined) {
        await disposeParts(parts);
        return { kind: 'eof' };
      }
      if (!Buffer.isBuffer(line)) {
        await disposeParts(parts);
        // The rest of an overlong line may have been a literal's announcement: we cannot know where the next command starts.
        return { kind: 'refused', tag: undefined, error: bad('command line too long', 'TOOBIG'), close: true };
      }
      if (parts.length === 0) ({ tag, command } = head(line));
      total += line.length;
      const m = literalMarker.exec(line.subarray(Math.max(0, line.length - 26)).toString('latin1'));
      if (!m) {
        parts.push(line);
        if (total > this.#limits.maxCommand) {
          await disposeParts(parts);
          return { kind: 'refused', tag, error: bad('command too long', 'TOOBIG'), close: false };
        }
        return { kind: 'command', parts };
      }
      parts.push(line.subarray(0, line.length - m[0].length));
      const size = Number(m[2]);
      const binary = m[1] === '~';
      const sync = m[3] !== '+';
      const message = messageCommands.has(command);
      let refusal: ImapError | undefined;
      if (message && (size > this.#limits.maxMessage || messageBytes + size > maxMessageBytes(this.#limits))) refusal = new ImapError(sync ? 'NO' : 'BAD', 'TOOBIG', `${size > this.#limits.maxMessage ? `message larger than APPENDLIMIT ${this.#limits.maxMessage}` : `messages of one command larger than ${maxMessageBytes(this.#limits)} octets`}`); // RFC 7889 §4
      else if (!message && total + size > this.#limits.maxCommand) refusal = bad('literal too large', 'TOOBIG'); // RFC 7888 §4
      else if (binary && !message) refusal = bad('binary literal only allowed in APPEND'); // RFC 3516 §4.4
      if (refusal) {
        await disposeParts(parts);
        // A synchronizing literal was not sent yet: refusing it ends the command (RFC 9051 §7.5). A non-synchronizing one is on its way and we will not read it (RFC 7888 §4).
        return { kind: 'refused', tag, error: refusal, close: !sync };
      }
      if (sync) await this.#continuation(); // RFC 9051 §7.5: "+" asks for the literal
      // A message literal goes to memory while it and the command's other in-memory ones stay within memoryLiteral; beyond, to a spool file (a MULTIAPPEND of many messages stays out of the heap).
      const toMemory = !message || inMemory + size <= this.#limits.memoryLiteral;
      const literal = toMemory ? await this.#toMemory(size, binary) : await this.#toFile(size, binary);
      if (!literal) {
        await disposeParts(parts);
        return { kind: 'eof' };
      }
      parts.push(literal);
      if (!message) total += size;
      else {
        messageBytes += size;
        if (toMemory) inMemory += size;
      }
    }
  }

  async #toMemory(size: number, binary: boolean): Promise<Literal | undefined> {
    const data = Buffer.allocUnsafe(size);
    let o = 0;
    const ok = await this.#input.bytes(size, (c) => void (o += c.copy(data, o)));
    return ok ? { kind: 'memory', data, binary } : undefined;
  }

  async #toFile(size: number, binary: boolean): Promise<Literal | undefined> {
    const path = `${this.#spoolDir}/${randomBytes(12).toString('hex')}`;
    const fh = await open(path, 'wx', 0o600);
    let ok = false;
    try {
      ok = await this.#input.bytes(size, async (c) => void (await fh.write(c)));
    } finally {
      await fh.close();
      if (!ok) await rm(path, { force: true });
    }
    return ok ? { kind: 'file', path, size, binary } : undefined;
  }
}

/** Message bytes one command may carry (MULTIAPPEND, RFC 3502): ten messages of the largest size; the spool is on disk, but not without bound. */
export function maxMessageBytes(l: ReaderLimits): number {
  return 10 * l.maxMessage;
}

/** Removes the spool files of a command's literals. */
export async function disposeParts(parts: readonly CommandPart[]): Promise<void> {
  for (const p of parts) if (!Buffer.isBuffer(p) && p.kind === 'file') await rm(p.path, { force: true });
}
