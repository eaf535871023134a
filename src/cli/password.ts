// Reads a new password for setaccountpassword: prompted twice without echo on a
// terminal, or the first line of standard input when piped (for scripts).
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { CommandError } from './command.ts';

async function readLine(stdin: NodeJS.ReadableStream): Promise<string> {
  const rl = createInterface({ input: stdin, crlfDelay: Infinity });
  try {
    for await (const line of rl) return line;
  } finally {
    rl.close();
  }
  throw new CommandError('no password on standard input');
}

async function promptHidden(stdin: NodeJS.ReadableStream, stderr: NodeJS.WritableStream, prompt: string): Promise<string> {
  let muted = false;
  const output = new Writable({ write(chunk: Buffer, _enc, cb) { if (!muted) stderr.write(chunk); cb(); } });
  const rl = createInterface({ input: stdin, output, terminal: true });
  try {
    const p = rl.question(prompt);
    muted = true;
    const answer = await p;
    stderr.write('\n');
    return answer;
  } finally {
    rl.close();
  }
}

export async function readNewPassword(stdin: NodeJS.ReadableStream, stderr: NodeJS.WritableStream): Promise<string> {
  if (!(stdin as NodeJS.ReadStream).isTTY) return readLine(stdin);
  const a = await promptHidden(stdin, stderr, 'new password: ');
  const b = await promptHidden(stdin, stderr, 'repeat password: ');
  if (a !== b) throw new CommandError('passwords do not match');
  return a;
}
