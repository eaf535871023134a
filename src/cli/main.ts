// `mailcove` entry point: finds the subcommand in the command table, parses its options
// and runs it. Exit codes: 0 ok, 1 failure, 2 usage error.
import { commands } from './commands.ts';
import { commandHelp, CommandError, parseCommandArgs, synopsis, UsageError, type Command } from './command.ts';
import { logger } from '../log/index.ts';
import { ConfigError } from '../config/index.ts';
import { isStoreError } from '../store/index.ts';

/** Finds the command whose name is the longest prefix of the words (`config account add x`). */
export function findCommand(words: string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const c of commands) {
    const parts = c.name.split(' ');
    if (parts.every((p, i) => words[i] === p) && (!best || parts.length > best.command.name.split(' ').length)) best = { command: c, rest: words.slice(parts.length) };
  }
  return best;
}

export function overview(): string {
  const lines = ['usage: mailcove <command> [options] [args]', '', 'commands:'];
  for (const c of commands) lines.push(`  ${c.name.padEnd(26)} ${c.summary}`);
  lines.push('', "Run 'mailcove <command> --help' for a command's options.");
  return lines.join('\n') + '\n';
}

export async function main(argv: string[], io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    io.stdout.write(overview());
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    // A command group name alone (`mailcove config`) lists its subcommands.
    const group = commands.filter((c) => c.name.startsWith(argv[0] + ' '));
    if (group.length && argv.length === 1) {
      io.stdout.write(group.map((c) => `  ${synopsis(c)}\n      ${c.summary}\n`).join(''));
      return 2;
    }
    io.stderr.write(`mailcove: unknown command ${JSON.stringify(argv.join(' '))}\n\n${overview()}`);
    return 2;
  }
  const { command, rest } = found;
  if (rest.includes('--help') || (rest.includes('-h') && !command.noShortHelp)) {
    io.stdout.write(commandHelp(command));
    return 0;
  }
  try {
    const { args, options } = parseCommandArgs(command, rest);
    return (await command.run({ args, options, ...io })) ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`mailcove ${command.name}: ${e.message}\nusage: ${synopsis(command)}\n`);
      return 2;
    }
    // Errors the user should read, not bugs: a refused config edit, a store refusal.
    if (e instanceof CommandError || e instanceof ConfigError || isStoreError(e)) {
      io.stderr.write(`mailcove ${command.name}: ${e.message}\n`);
      return 1;
    }
    logger('cli').error({ err: e, command: command.name }, 'command failed');
    io.stderr.write(`mailcove ${command.name}: ${(e as Error).message}\n`);
    return 1;
  }
}

if (import.meta.main) {
  // File I/O and fsync run on libuv's thread pool (4 threads by default); concurrent deliveries each wait for
  // fsyncs, so a larger pool keeps them from queueing. Read by libuv at the pool's first use, which is later.
  process.env['UV_THREADPOOL_SIZE'] ??= '16';
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
}
