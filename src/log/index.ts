// Structured logging on pino: one root logger, a child per module with its own level
// (changeable at runtime), and connection/operation ids carried on every line.
import { randomBytes } from 'node:crypto';
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

export type Level = LevelWithSilent;
export const levels: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A module's logger: pino's, with the module name (and often a cid) on every line. */
export type Logger = PinoLogger;

function defaultLevel(): Level {
  const env = process.env['MAILCOVE_LOG_LEVEL'];
  if (env && (levels as readonly string[]).includes(env)) return env as Level;
  // Tests keep the output readable; failures are reported by assertions, not logs.
  return process.env['NODE_TEST_CONTEXT'] ? 'silent' : 'info';
}

const root: PinoLogger = pino({
  level: 'trace', // filtering happens per module child
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
});

let globalLevel: Level = defaultLevel();
const moduleLevels = new Map<string, Level>();
const moduleLoggers = new Map<string, PinoLogger>();

/** The logger for a module (e.g. 'store', 'smtpserver'); created once, level managed here. */
export function logger(module: string): Logger {
  let l = moduleLoggers.get(module);
  if (!l) {
    l = root.child({ module });
    l.level = moduleLevels.get(module) ?? globalLevel;
    moduleLoggers.set(module, l);
  }
  return l;
}

/** Sets the level of one module, or of all modules without their own level (module ''). */
export function setLevel(module: string, level: Level): void {
  if (module === '') {
    globalLevel = level;
    for (const [name, l] of moduleLoggers) if (!moduleLevels.has(name)) l.level = level;
    return;
  }
  moduleLevels.set(module, level);
  const l = moduleLoggers.get(module);
  if (l) l.level = level;
}

/** Current levels: the global one under '' and every module override. */
export function getLevels(): Record<string, Level> {
  return { '': globalLevel, ...Object.fromEntries(moduleLevels) };
}

/** Names of the modules that have a logger so far (for choosing one to set a level on). */
export function modules(): string[] {
  return [...moduleLoggers.keys()].sort();
}

/** A fresh connection/operation id: short, random, unique enough to grep logs by. */
export function newCid(): string {
  return randomBytes(6).toString('base64url');
}

/** A child logger tagged with a connection/operation id (and any other fixed context). */
export function withCid(log: Logger, cid: string, context: Record<string, unknown> = {}): Logger {
  return log.child({ cid, ...context });
}
