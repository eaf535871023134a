// The command table's types and the argument parsing shared by every subcommand; help
// text and the README's CLI reference are generated from the same table.
import { parseArgs } from 'node:util';

export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
  valueName?: string; // shown in help, e.g. DIR
  default?: string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

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
  run(ctx: CommandContext): Promise<number | void>;
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
  const opts = Object.entries(c.options).map(([k, o]) => (o.type === 'boolean' ? `[--${k}]` : `[--${k} ${o.valueName ?? 'VALUE'}]`));
  return ['mailcove', c.name, ...opts, c.args].filter((s) => s !== '').join(' ');
}

export function commandHelp(c: Command): string {
  const lines = [`usage: ${synopsis(c)}`, '', c.summary];
  if (c.description) lines.push('', c.description.trim());
  const opts = Object.entries(c.options);
  if (opts.length) {
    lines.push('', 'options:');
    for (const [k, o] of opts) {
      const head = o.type === 'boolean' ? `--${k}` : `--${k} ${o.valueName ?? 'VALUE'}`;
      lines.push(`  ${head.padEnd(24)} ${o.description}${o.default !== undefined ? ` (default: ${o.default})` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** Parses the words after the command name against its option table. */
export function parseCommandArgs(c: Command, argv: string[]): { args: string[]; options: OptionValues } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(c.options).map(([k, o]) => [k, o.default !== undefined ? { type: o.type, default: o.default } : { type: o.type }])),
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

/** Reads a string option that has a default or is required. */
export function stringOption(o: OptionValues, name: string): string {
  const v = o[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}
