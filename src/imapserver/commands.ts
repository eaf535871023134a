// The command table: every IMAP command by name (UID forms as "UID FETCH"), with the
// states it is valid in (RFC 9051 §6) and its handler.
import { setCommands, type CommandSpec } from './session.ts';
import { anyStateCommands } from './any.ts';
import { authCommands } from './auth.ts';
import { selectCommands } from './select.ts';
import { mailboxCommands } from './mailboxes.ts';
import { metadataCommands } from './metadata.ts';
import { messageCommands } from './messages.ts';
import { appendCommands } from './append.ts';
import { notifyCommands } from './notify.ts';
import { fetchCommands } from './fetch/index.ts';
import { searchCommands } from './search/index.ts';

export const commandTable = new Map<string, CommandSpec>(
  Object.entries({
    ...anyStateCommands,
    ...authCommands,
    ...selectCommands,
    ...mailboxCommands,
    ...metadataCommands,
    ...messageCommands,
    ...appendCommands,
    ...notifyCommands,
    ...fetchCommands,
    ...searchCommands,
  }),
);
setCommands(commandTable);
