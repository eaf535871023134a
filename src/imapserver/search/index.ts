// SEARCH and UID SEARCH (RFC 9051 §6.4.4): placeholder until the search module lands.
import type { CommandSpec } from '../session.ts';
export const searchCommands: Record<string, CommandSpec> = {};
