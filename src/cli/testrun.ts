// Runs `mailcove` commands in-process through main() with captured output, for the CLI
// tests of this folder. Test-only.
import { PassThrough, Readable } from 'node:stream';
import { main } from './main.ts';

export interface RunResult { code: number; stdout: string; stderr: string }

/** Runs argv, inserting `--config CONFIG` after the first `words` words (the command name). */
export async function runMailcove(config: string, words: number, argv: string[], input?: string): Promise<RunResult> {
  return runArgv([...argv.slice(0, words), '--config', config, ...argv.slice(words)], input);
}

/** Runs argv as given (e.g. with `--dir DIR`); `input`, when given, is standard input (not a terminal). */
export async function runArgv(argv: string[], input?: string): Promise<RunResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await main(argv, { stdout: out as unknown as typeof process.stdout, stderr: err as unknown as typeof process.stderr, stdin: input === undefined ? process.stdin : (Readable.from([input]) as unknown as typeof process.stdin) });
  return { code, stdout, stderr };
}
