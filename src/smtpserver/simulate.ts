// localserve's simulated failures, so that developers can test how their application
// handles SMTP errors: the localpart asks for one. "tempfail", "permfail", "timeout" or
// a 3-digit code fail at DATA; prefixed "mailfrom" (in MAIL FROM) or "rcptto" (in RCPT TO)
// they fail at that command. Example: rcptto550@localhost, mailfromtempfail@localhost.
import { SmtpError } from '../smtp/index.ts';
import type { Session } from './session.ts';

export interface SimulatedFailure {
  stage: 'mailfrom' | 'rcptto' | 'data';
  kind: string; // tempfail | permfail | timeout | 3-digit code
  /** The error to answer with; for "timeout" it first waits as long as a stuck server would. */
  error(s: Session): Promise<SmtpError>;
}

const pattern = /^(mailfrom|rcptto)?(tempfail|permfail|timeout|[245]\d\d)$/i;

export function simulatedFailure(localpart: string): SimulatedFailure | undefined {
  const m = pattern.exec(localpart);
  if (!m) return undefined;
  const stage = (m[1]?.toLowerCase() ?? 'data') as SimulatedFailure['stage'];
  const kind = m[2]!.toLowerCase();
  return {
    stage,
    kind,
    error: async (s) => {
      if (kind === 'timeout') {
        await s.delay(s.ctx.localserve?.simulatedTimeoutMs ?? 0);
        return new SmtpError(421, '4.4.2', 'simulated timeout, closing connection');
      }
      if (kind === 'tempfail') return new SmtpError(451, '4.3.0', 'simulated temporary failure');
      if (kind === 'permfail') return new SmtpError(550, '5.0.0', 'simulated permanent failure');
      const code = Number(kind);
      if (code < 400) return new SmtpError(550, '5.0.0', `simulated failure (${kind} is not an error code; answering 550)`);
      return new SmtpError(code, `${kind[0]}.0.0`, `simulated error ${kind}`);
    },
  };
}
