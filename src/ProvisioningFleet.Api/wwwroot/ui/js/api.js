// Calls the REST API with the sign-in cookie. Writes carry the anti-forgery token that GET /api/v1/me
// hands out, because a cookie alone must never be enough to change anything.

let session;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

function toSignIn() {
  const back = location.pathname + location.search;
  location.assign(`/signin?returnUrl=${encodeURIComponent(back)}`);
}

async function send(path, { method = 'GET', body, session: caller } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (caller?.antiforgeryToken) headers[caller.antiforgeryHeader] = caller.antiforgeryToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    toSignIn();
    throw new ApiError(401, { title: 'Signed out' });
  }
  const text = await response.text();
  const payload = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, payload);
  return payload;
}

/** Who is signed in, with the role that decides which actions the page offers. */
export async function currentSession() {
  session ??= await send('/api/v1/me');
  return session;
}

export const canOperate = (s) => s.role === 'Operator' || s.role === 'Admin';

export const get = (path) => send(path);

export async function post(path, body = {}) {
  const s = await currentSession();
  return send(path, { method: 'POST', body, session: s });
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const one of [value].flat()) if (one !== undefined && one !== null && one !== '') search.append(name, one);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Ends the cookie session (a write like any other, so it carries the token) and returns to sign-in. */
export async function signOut() {
  const s = await currentSession();
  await fetch('/signout', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { [s.antiforgeryHeader]: s.antiforgeryToken ?? '' },
    redirect: 'manual',
  });
  location.assign('/signin');
}
