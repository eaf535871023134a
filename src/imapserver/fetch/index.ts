// FETCH and UID FETCH (RFC 9051 §6.4.5): placeholder until the fetch module lands.
import type { CommandSpec } from '../session.ts';
export const fetchCommands: Record<string, CommandSpec> = {};
