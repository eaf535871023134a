// `mailcove queue ...`: the outbound queue of the running server, through its control
// socket (src/queue/control.ts) in the data directory: options to filters, results to tables.
import type { Config } from '../config/index.ts';
import { ControlError, controlRequest, controlSocketPath, type ControlArgs, type ControlOp, type ControlResult } from '../queue/index.ts';
import { CommandError, UsageError, type CommandContext, type OptionSpec, type OptionValues } from './command.ts';

const timeHelp = 'TIME is ISO 8601 (2026-03-01T12:00:00Z) or a duration from now (-2h: two hours ago, 30m: in 30 minutes)';

/** Filter options of list, hold, release, schedule, fail and drop; every given one must match. */
export const queueFilterOptions: Record<string, OptionSpec> = {
  id: { type: 'string', valueName: 'N', multiple: true, description: 'queue entry (recipient) id; a comma list works too' },
  account: { type: 'string', valueName: 'A', description: 'sending account' },
  from: { type: 'string', valueName: 'S', description: 'MAIL FROM contains S (case-insensitive)' },
  to: { type: 'string', valueName: 'S', description: 'recipient contains S (case-insensitive; a domain works)' },
  'submitted-before': { type: 'string', valueName: 'TIME', description: 'submitted before TIME' },
  'submitted-after': { type: 'string', valueName: 'TIME', description: 'submitted after TIME' },
  'next-attempt-before': { type: 'string', valueName: 'TIME', description: 'next attempt before TIME' },
  'next-attempt-after': { type: 'string', valueName: 'TIME', description: 'next attempt after TIME' },
};

export const queueHeldOptions: Record<string, OptionSpec> = {
  held: { type: 'boolean', description: 'only held entries' },
  'not-held': { type: 'boolean', description: 'only entries that are not held' },
};

export const queueAllOption: Record<string, OptionSpec> = {
  all: { type: 'boolean', description: 'act on the whole queue (required when no filter is given)' },
};

export const queueScheduleOptions: Record<string, OptionSpec> = {
  at: { type: 'string', valueName: 'TIME', description: 'next attempt at TIME' },
  in: { type: 'string', valueName: 'DURATION', description: 'move each next attempt by DURATION: 10m later, -1h earlier' },
};

export const queueRetiredOptions: Record<string, OptionSpec> = {
  id: queueFilterOptions['id']!,
  account: queueFilterOptions['account']!,
  from: queueFilterOptions['from']!,
  to: queueFilterOptions['to']!,
  delivered: { type: 'boolean', description: 'only delivered recipients' },
  failed: { type: 'boolean', description: 'only failed recipients' },
  'retired-after': { type: 'string', valueName: 'TIME', description: 'retired after TIME' },
  fromid: { type: 'string', valueName: 'ID', description: 'the unique MAIL FROM id a DSN came back to' },
};

export const queueFilterHelp = `Talks to the running server through its control socket, <dataDir>/ctl. Filters combine: each given one must match. ${timeHelp}; duration units: ms s m h d w.`;

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A signed duration such as 10m, -1h or 1h30m, in ms; undefined when the text is not one. */
export function parseDuration(s: string): number | undefined {
  const m = /^([+-]?)((?:\d+(?:ms|s|m|h|d|w))+)$/.exec(s);
  if (!m) return undefined;
  let ms = 0;
  for (const [, n, unit] of m[2]!.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) ms += Number(n) * units[unit!]!;
  return m[1] === '-' ? -ms : ms;
}

/** TIME: ISO 8601, or a duration from now; `past` refuses a future duration (submission times are past). */
export function parseTime(option: string, s: string, now: number, past = false): string {
  const d = parseDuration(s);
  if (d !== undefined) {
    if (past && d > 0) throw new UsageError(`--${option} ${s}: that is in the future; for ${s} ago write -${s}`);
    if (Number.isNaN(new Date(now + d).getTime())) throw new UsageError(`--${option} ${s}: too far away`);
    return new Date(now + d).toISOString();
  }
  const t = /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(t)) throw new UsageError(`--${option} ${s}: not an ISO 8601 time (2026-03-01T12:00:00Z) or a duration (-2h, 30m)`);
  return new Date(t).toISOString();
}

function ids(o: OptionValues): number[] | undefined {
  const v = o['id'];
  if (v === undefined || typeof v === 'boolean') return undefined;
  return (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(',')).map((x) => {
    const n = Number(x.trim());
    if (!/^\s*\d+\s*$/.test(x) || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--id ${x}: not a queue entry id`);
    return n;
  });
}

const text = (o: OptionValues, name: string) => (typeof o[name] === 'string' ? o[name] : undefined);

/** The selection criteria (no held/not-held) as the control socket takes them. */
function selection(o: OptionValues, now = Date.now()): ControlArgs<'queue.hold'> {
  const time = (name: string, past: boolean) => (typeof o[name] === 'string' ? parseTime(name, o[name], now, past) : undefined);
  const f: ControlArgs<'queue.hold'> = {
    ids: ids(o), account: text(o, 'account'), from: text(o, 'from'), to: text(o, 'to'),
    submittedBefore: time('submitted-before', true), submittedAfter: time('submitted-after', true),
    nextAttemptBefore: time('next-attempt-before', false), nextAttemptAfter: time('next-attempt-after', false),
  };
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)); // JSON drops undefined anyway; this keeps "no filter" checkable
}

function filter(o: OptionValues): ControlArgs<'queue.list'> {
  if (o['held'] && o['not-held']) throw new UsageError('--held and --not-held exclude each other');
  return { ...selection(o), ...(o['held'] ? { held: true } : o['not-held'] ? { held: false } : {}) };
}

/** Runs an op in the server of this config; its refusal is the command's error. */
async function call<O extends ControlOp>(config: Config, op: O, args: ControlArgs<O>): Promise<ControlResult<O>> {
  try {
    return await controlRequest(controlSocketPath(config.paths.dataDir), op, args);
  } catch (e) {
    if (e instanceof ControlError) throw new CommandError(e.message);
    throw e;
  }
}

// --- Output ---

/** Control characters shown escaped: error texts come from remote servers and must not drive the admin's terminal. */
const printable = (s: string) => s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** Columns padded to their widest cell; the last column is not padded. */
function table(header: string[], cells: string[][]): string {
  const rows = cells.map((r) => r.map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd() + '\n';
  return line(header) + rows.map(line).join('');
}

const when = (iso: string) => iso.replace(/\.\d+Z$/, 'Z'); // seconds are precise enough for people
const sender = (s: string) => (s === '' ? '<>' : s); // RFC 5321 §4.5.5: the null reverse-path
const entries = (n: number) => `${n} ${n === 1 ? 'entry' : 'entries'}`;

/** An error on one line, cut to fit a table row; `--id` shows it whole with the attempts. */
function short(s: string | undefined, max = 80): string {
  const one = (s ?? '').replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function attemptsTable(attempts: ControlResult<'queue.attempts'>): string {
  if (attempts.length === 0) return '  no attempts yet\n';
  const rows = attempts.map((a) => [when(a.time), a.transport, a.mx ?? '-', a.ip ?? '-', a.tls ?? '-', a.code !== undefined ? String(a.code) : '-', a.enhanced ?? '-', a.success ? 'ok' : (a.error ?? '')]);
  return table(['TIME', 'TRANSPORT', 'MX', 'IP', 'TLS', 'CODE', 'ENHANCED', 'RESULT'], rows).replace(/^/gm, '  ');
}

// --- Commands ---

export async function queueList(config: Config, { options, stdout }: CommandContext): Promise<void> {
  const f = filter(options);
  const list = await call(config, 'queue.list', f);
  if (list.length === 0) {
    stdout.write(Object.keys(f).length ? 'no queue entries match\n' : 'queue is empty\n');
    return;
  }
  stdout.write(table(['ID', 'FROM', 'TO', 'ATTEMPTS', 'NEXT ATTEMPT', 'HELD', 'LAST ERROR'], list.map((e) => [String(e.id), sender(e.mailFrom), e.recipient, String(e.attempts), when(e.nextAttempt), e.held ? 'yes' : 'no', short(e.lastError)])));
  if (f.ids === undefined) return;
  for (const e of list) stdout.write(`\nattempts of ${e.id} (${e.recipient}):\n${attemptsTable(await call(config, 'queue.attempts', { id: e.id }))}`);
}

export async function queueHold(config: Config, { options, stdout }: CommandContext): Promise<void> {
  stdout.write(`${entries(await call(config, 'queue.hold', selection(options)))} held\n`);
}

export async function queueRelease(config: Config, { options, stdout }: CommandContext): Promise<void> {
  stdout.write(`${entries(await call(config, 'queue.release', selection(options)))} released\n`);
}

export async function queueSchedule(config: Config, { options, stdout }: CommandContext): Promise<void> {
  const at = text(options, 'at');
  const move = text(options, 'in');
  if (at !== undefined && move !== undefined) throw new UsageError('use --at or --in, not both');
  let target: { at?: string; moveMs?: number } = {};
  let said = 'for now';
  if (at !== undefined) {
    const t = parseTime('at', at, Date.now());
    target = { at: t };
    said = `for ${when(t)}`;
  } else if (move !== undefined) {
    const moveMs = parseDuration(move);
    if (moveMs === undefined) throw new UsageError(`--in ${move}: not a duration (10m, -1h, 1h30m)`);
    target = { moveMs };
    said = `${move.replace(/^[+-]/, '')} ${moveMs < 0 ? 'earlier' : 'later'}`;
  }
  const n = await call(config, 'queue.schedule', { ...filter(options), ...target });
  stdout.write(`${entries(n)} scheduled ${said}\n`);
}

/** fail and drop: refused without a filter unless --all. */
function destructive(options: OptionValues, what: string): ControlArgs<'queue.fail'> {
  const f = filter(options);
  if (Object.keys(f).length === 0 && !options['all']) throw new UsageError(`refusing to ${what} the whole queue: give a filter, or --all`);
  return { ...f, ...(options['all'] ? { all: true } : {}) };
}

export async function queueFail(config: Config, { options, stdout }: CommandContext): Promise<void> {
  const n = await call(config, 'queue.fail', destructive(options, 'fail'));
  stdout.write(`${entries(n)} failed; failure DSNs go to the senders, unless they asked for none\n`);
}

export async function queueDrop(config: Config, { options, stdout }: CommandContext): Promise<void> {
  const n = await call(config, 'queue.drop', destructive(options, 'drop'));
  stdout.write(`${entries(n)} dropped, without DSN\n`);
}

function idArg(s: string): number {
  if (!/^\d+$/.test(s) || Number(s) <= 0 || !Number.isSafeInteger(Number(s))) throw new UsageError(`${s}: not a queue entry id`);
  return Number(s);
}

export async function queueDump(config: Config, { args, stdout }: CommandContext): Promise<void> {
  stdout.write(Buffer.from(await call(config, 'queue.dump', { id: idArg(args[0]!) }), 'base64'));
}

export async function queueRetired(config: Config, { options, stdout }: CommandContext): Promise<void> {
  if (options['delivered'] && options['failed']) throw new UsageError('--delivered and --failed exclude each other');
  const only = ids(options);
  const f: ControlArgs<'queue.retired'> = {
    ...(only ? { ids: only } : {}),
    ...Object.fromEntries(['account', 'from', 'to', 'fromid'].flatMap((k) => (typeof options[k] === 'string' ? [[k, options[k]]] : []))),
    ...(options['delivered'] ? { success: true } : options['failed'] ? { success: false } : {}),
    ...(typeof options['retired-after'] === 'string' ? { retiredAfter: parseTime('retired-after', options['retired-after'], Date.now(), true) } : {}),
  };
  const list = await call(config, 'queue.retired', f);
  if (list.length === 0) {
    stdout.write('no retired entries match\n');
    return;
  }
  stdout.write(table(['ID', 'RESULT', 'FROM', 'TO', 'RETIRED', 'ATTEMPTS', 'LAST ERROR'], list.map((r) => [String(r.id), r.success ? 'delivered' : 'failed', sender(r.mailFrom), r.address, when(r.retired), String(r.attempts.length), short(r.lastError)])));
  if (f.ids === undefined) return;
  for (const r of list) stdout.write(`\nattempts of ${r.id} (${r.address}):\n${attemptsTable(r.attempts)}`);
}

function knownAccount(config: Config, account: string): void {
  if (!config.domains.accounts[account]) throw new CommandError(`no account ${JSON.stringify(account)} in domains.conf`);
}

export async function suppressList(config: Config, { args, stdout }: CommandContext): Promise<void> {
  const list = await call(config, 'queue.suppress.list', args[0] !== undefined ? { account: args[0] } : {});
  if (list.length === 0) {
    stdout.write('no suppressed recipients\n');
    return;
  }
  stdout.write(table(['ACCOUNT', 'ADDRESS', 'ADDED', 'HOW', 'REASON'], list.map((s) => [s.account, s.address, when(s.created), s.manual ? 'manual' : 'automatic', short(s.reason, 120)])));
}

export async function suppressAdd(config: Config, { args, stdout }: CommandContext): Promise<void> {
  const [account, address, reason] = args as [string, string, string | undefined];
  knownAccount(config, account);
  await call(config, 'queue.suppress.add', { account, address, ...(reason !== undefined ? { reason } : {}) });
  stdout.write(`${address} suppressed for account ${account}: the queue fails messages to it without trying\n`);
}

export async function suppressRm(config: Config, { args, stdout }: CommandContext): Promise<void> {
  const [account, address] = args as [string, string];
  await call(config, 'queue.suppress.rm', { account, address });
  stdout.write(`${address} no longer suppressed for account ${account}\n`);
}

const any = (s: string) => (s === '' ? '*' : s);

export async function holdRulesList(config: Config, { stdout }: CommandContext): Promise<void> {
  const list = await call(config, 'queue.holdrules.list', {});
  if (list.length === 0) {
    stdout.write('no hold rules\n');
    return;
  }
  stdout.write(table(['ID', 'ACCOUNT', 'SENDER DOMAIN', 'RECIPIENT DOMAIN', 'CREATED'], list.map((r) => [String(r.id), any(r.account), any(r.senderDomain), any(r.recipientDomain), when(r.created)])));
}

export async function holdRulesAdd(config: Config, { options, stdout }: CommandContext): Promise<void> {
  const account = text(options, 'account');
  if (account !== undefined) knownAccount(config, account);
  const r = await call(config, 'queue.holdrules.add', { account, senderDomain: text(options, 'sender-domain'), recipientDomain: text(options, 'recipient-domain') });
  const all = r.account === '' && r.senderDomain === '' && r.recipientDomain === '';
  stdout.write(`hold rule ${r.id} added: account ${any(r.account)}, sender domain ${any(r.senderDomain)}, recipient domain ${any(r.recipientDomain)}; ${all ? 'every message is held' : 'matching messages are held'}, queued ones too, until released\n`);
}

export async function holdRulesRm(config: Config, { args, stdout }: CommandContext): Promise<void> {
  const id = args[0]!;
  if (!/^\d+$/.test(id) || Number(id) <= 0) throw new UsageError(`${id}: not a hold rule id`);
  await call(config, 'queue.holdrules.rm', { id: Number(id) });
  stdout.write(`hold rule ${id} removed; entries it held stay held until released\n`);
}
