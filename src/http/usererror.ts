// Session methods of the web surfaces whose expected failures reach the user as user:error:
// a refused config edit (with the file name and line, not the path), a password that does
// not meet the rules, a missing or existing store object. Anything else stays a server
// error (logged, counted as a bug).
import { basename } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from '../config/index.ts';
import { PasswordError } from '../sasl/index.ts';
import { isStoreError } from '../store/index.ts';
import { ApiError, method, type ApiCall, type ApiMethod } from './api.ts';

/** The ApiError a known failure is for the user, or the error itself. `more` translates a surface's own errors. */
export function asUserError(e: unknown, more?: (e: unknown) => ApiError | undefined): unknown {
  if (e instanceof ApiError) return e;
  if (e instanceof ConfigError) return new ApiError('user:error', e.problems.map((p) => `${basename(p.file)}${p.line === undefined ? '' : `:${p.line}`}: ${p.key ? `${p.key}: ` : ''}${p.message}`).join('\n'));
  if (e instanceof PasswordError) return new ApiError('user:error', e.message);
  if (isStoreError(e, 'NONEXISTENT') || isStoreError(e, 'ALREADYEXISTS') || isStoreError(e, 'BADNAME')) return new ApiError('user:error', e.message);
  return more?.(e) ?? e;
}

/** A method that needs a session, with known failures turned into user:error. */
export function sessionMethod<I extends z.ZodType, O>(input: I, handler: (input: z.output<I>, call: ApiCall<'session'>) => Promise<O> | O, more?: (e: unknown) => ApiError | undefined): ApiMethod<I, O, 'session'> {
  return method({
    auth: 'session',
    input,
    handler: async (i, call) => {
      try {
        return await handler(i, call);
      } catch (e) {
        throw asUserError(e, more);
      }
    },
  });
}
