// The frontend's side of a surface's typed API (src/http/api.ts): `client.call(name, input)`
// is typed by the server's own API table (imported as a type only, no code generation).
// The CSRF token from the login travels in a header with every call. When the server says
// user:noAuth or user:badAuth (no session, expired, or logged out elsewhere) the login
// form is shown and, once logged in, the failed call is made again.
import type { Api, ApiErrorBody, ApiRequest, ApiResponse, LoginResponse } from '../../src/http/index.ts';

export class ApiCallError extends Error {
  override name = 'ApiCallError';
  readonly code: ApiErrorBody['code'];
  constructor(code: ApiErrorBody['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** Shows a login form and resolves with the credentials typed; `error` is shown above it after a failed try. */
export type LoginPrompt = (error?: string) => Promise<{ username: string; password: string }>;

export class ApiClient<A extends Api> {
  readonly #base: string;
  readonly #key: string;
  readonly #prompt: LoginPrompt;
  #loggingIn: Promise<void> | undefined;
  account = '';

  /** base: the surface's path ('/', '/admin/'): calls go to `${base}api/<method>`. */
  constructor(base: string, prompt: LoginPrompt) {
    this.#base = base;
    this.#key = `mailcove-csrf:${base}`;
    this.#prompt = prompt;
    this.account = localStorage.getItem(`${this.#key}:account`) ?? '';
  }

  get csrfToken(): string {
    return localStorage.getItem(this.#key) ?? '';
  }

  async call<N extends keyof A & string>(name: N, input: ApiRequest<A[N]>): Promise<ApiResponse<A[N]>> {
    return (await this.#withLogin(() => this.#post(name, input))) as ApiResponse<A[N]>;
  }

  /** Makes the request; when the server says there is no session (or it is not valid), logs in and makes it once more. */
  async #withLogin<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (e) {
      if (!(e instanceof ApiCallError) || (e.code !== 'user:noAuth' && e.code !== 'user:badAuth')) throw e;
    }
    await this.login();
    return request();
  }

  /** Shows the login form until a login succeeds (one form even if several calls failed at once). */
  login(): Promise<void> {
    this.#loggingIn ??= (async () => {
      let error: string | undefined;
      for (;;) {
        const credentials = await this.#prompt(error);
        try {
          const r = (await this.#post('login', credentials)) as LoginResponse;
          localStorage.setItem(this.#key, r.csrfToken);
          localStorage.setItem(`${this.#key}:account`, r.account);
          this.account = r.account;
          return;
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
      }
    })().finally(() => (this.#loggingIn = undefined));
    return this.#loggingIn;
  }

  async logout(): Promise<void> {
    try {
      await this.#post('logout', {});
    } finally {
      localStorage.removeItem(this.#key);
      localStorage.removeItem(`${this.#key}:account`);
      this.account = '';
    }
  }

  /** Raw POST of a non-JSON body (an upload) to a path below the surface, with the CSRF header; logs in and retries like call(). */
  upload<T>(path: string, body: Blob, onProgress?: (fraction: number) => void): Promise<T> {
    return this.#withLogin(() => this.#xhr<T>(path, body, onProgress));
  }

  /** A download: a form post in a hidden frame-less form (so the browser saves the attachment), with the CSRF token as field. */
  download(method: string, fields: Record<string, string>): void {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = `${this.#base}api/${method}`;
    form.hidden = true;
    for (const [k, v] of Object.entries({ ...fields, csrf: this.csrfToken })) {
      const i = document.createElement('input');
      i.type = 'hidden';
      i.name = k;
      i.value = v;
      form.appendChild(i);
    }
    document.body.appendChild(form);
    form.submit();
    form.remove();
  }

  async #post(name: string, input: unknown): Promise<unknown> {
    const res = await fetch(`${this.#base}api/${name}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-mailcove-csrf': this.csrfToken },
      body: JSON.stringify(input),
      credentials: 'same-origin',
    });
    return parseResponse(res.status, res.headers.get('content-type'), await res.text());
  }

  #xhr<T>(path: string, body: Blob, onProgress?: (fraction: number) => void): Promise<T> {
    // XMLHttpRequest, not fetch: only it reports upload progress.
    return new Promise<T>((resolve, reject) => {
      const x = new XMLHttpRequest();
      x.open('POST', `${this.#base}${path}`);
      x.setRequestHeader('x-mailcove-csrf', this.csrfToken);
      x.setRequestHeader('Content-Type', 'application/octet-stream');
      if (onProgress) x.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
      x.onload = () => {
        try {
          resolve(parseResponse(x.status, x.getResponseHeader('content-type'), x.responseText) as T);
        } catch (e) {
          reject(e);
        }
      };
      x.onerror = () => reject(new ApiCallError('server:error', 'upload failed: connection error'));
      x.send(body);
    });
  }
}

function parseResponse(status: number, type: string | null, text: string): unknown {
  if (!type?.startsWith('application/json')) throw new ApiCallError('server:error', `unexpected response (HTTP ${status}): ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as unknown;
  if (status >= 200 && status < 300) return body;
  const err = body as Partial<ApiErrorBody>;
  throw new ApiCallError(err.code ?? 'server:error', err.message ?? `HTTP ${status}`);
}
