// FETCH and UID FETCH (RFC 9051 §6.4.5, §7.5.2): message data from the stored MIME index and
// byte ranges of the message file. Its pieces: items.ts (grammar), command.ts (the command),
// respond.ts (one message's response), structure.ts/envelope.ts (BODYSTRUCTURE, ENVELOPE),
// section.ts (what a section names), binary.ts (BINARY decoding), message.ts (reading bytes).
import type { CommandSpec } from '../session.ts';
import { fetch } from './command.ts';

export const fetchCommands: Record<string, CommandSpec> = {
  FETCH: { states: ['selected'], run: fetch },
  'UID FETCH': { states: ['selected'], run: fetch },
};
