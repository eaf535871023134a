// The command table's types and the argument parsing shared by every subcommand; help
// text and the README's CLI reference are generated from the same table.
import { parseArgs } from 'node:util';

export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
  valueName?: string; // shown in help, e.g. DIR
  default?: string;
  multiple?: boolean; // may be given more than once; the value is then a string[]
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  args: string[];
  options: OptionValues;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

export interface Command {
  name: string; // words, e.g. 'config account add'
  args: string; // argument synopsis, e.g. 'ACCOUNT ADDRESS'
  minArgs: number;
  maxArgs: number;
  summary: string; // one line
  description?: string; // more paragraphs for `--help`
  options: Record<string, OptionSpec>;
  /** -h is not help (sendmail's -h is a hop count); --help still is. */
  noShortHelp?: boolean;
  run(ctx: CommandContext): Promise<number | void>;
}

/** How an option is written: one-letter options (sendmail's -t, -f) with one dash. */
export function flag(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A failure the user should read (bad config, missing account...): printed without a stack, exit code 1. */
export class CommandError extends Error {
  override name = 'CommandError';
}

export function synopsis(c: Command): string {
  const opts = Object.entries(c.options).map(([k, o]) => (o.type === 'boolean' ? `[${flag(k)}]` : `[${flag(k)} ${o.valueName ?? 'VALUE'}]${o.multiple ? '...' : ''}`));
  return ['mailcove', c.name, ...opts, c.args].filter((s) => s !== '').join(' ');
}

export function commandHelp(c: Command): string {
  const lines = [`usage: ${synopsis(c)}`, '', c.summary];
  if (c.description) lines.push('', c.description.trim());
  const opts = Object.entries(c.options);
  if (opts.length) {
    lines.push('', 'options:');
    const head = (k: string, o: OptionSpec) => (o.type === 'boolean' ? flag(k) : `${flag(k)} ${o.valueName ?? 'VALUE'}`);
    const width = Math.max(24, ...opts.map(([k, o]) => head(k, o).length));
    for (const [k, o] of opts) {
      lines.push(`  ${head(k, o).padEnd(width)} ${o.description}${o.multiple ? ' (repeatable)' : ''}${o.default !== undefined ? ` (default: ${o.default})` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** Parses the words after the command name against its option table. */
export function parseCommandArgs(c: Command, argv: string[]): { args: string[]; options: OptionValues } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: negativeValues(c, argv),
      options: Object.fromEntries(Object.entries(c.options).map(([k, o]) => [k, { type: o.type, ...(o.default !== undefined ? { default: o.default } : {}), ...(o.multiple ? { multiple: true } : {}) }])),
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const args = parsed.positionals;
  if (args.length < c.minArgs) throw new UsageError(`missing arguments: ${c.args}`);
  if (args.length > c.maxArgs) throw new UsageError(`too many arguments (expected: ${c.args || 'none'})`);
  return { args, options: parsed.values as OptionValues };
}

/** `--in -1h` as `--in=-1h`: parseArgs takes a value starting with '-' for an option only in the second form. */
function negativeValues(c: Command, argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === '--') return [...out, ...argv.slice(i)];
    const next = argv[i + 1];
    if (w.startsWith('--') && c.options[w.slice(2)]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${w}=${next}`);
      i++;
    } else out.push(w);
  }
  return out;
}

/** Reads a string option that has a default or is required. */
export function stringOption(o: OptionValues, name: string): string {
  const v = o[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}
