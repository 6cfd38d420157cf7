// The public HTTP API, relative to the page (so it works under any route prefix or proxy path),
// with the credential the user signed in with.

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

const KEY = "ampp.credential";
let memory = null; // where the credential is kept when the browser refuses sessionStorage

// The Authorization header value the user signed in with on the sign-in page, kept for the
// tab's life (sessionStorage), or null: no authentication, or the browser's own basic-auth
// prompt or an authenticating proxy in front supplies the credentials.
export const credential = {
  get() {
    try {
      return sessionStorage.getItem(KEY);
    } catch {
      return memory;
    }
  },
  set(value) {
    try {
      if (value) sessionStorage.setItem(KEY, value);
      else sessionStorage.removeItem(KEY);
    } catch { /* storage refused: the credential lasts as long as the page */ }
    memory = value || null;
  },
};

// The headers of every request: the credential, and X-Requested-With, so that a 401 comes back
// to the page (which shows its sign-in) rather than to the browser's own password prompt.
export function authHeaders(value = credential.get()) {
  const headers = { "X-Requested-With": "XMLHttpRequest" };
  if (value) headers.Authorization = value;
  return headers;
}

// api("api/v2/alerts", {params: {filter: ["a=b"]}}) -> parsed JSON (null for an empty body).
// A 401 or 403 is announced on window ("ampp:denied"), so that the session is asked again: the
// credential may have expired or the role changed. `auth` overrides the stored credential.
export async function api(path, { method = "GET", params, body, auth, quiet = false } = {}) {
  const url = new URL(path, document.baseURI);
  if (params) {
    for (const [k, v] of Object.entries(params)) {
      for (const item of Array.isArray(v) ? v : [v]) {
        if (item !== undefined && item !== null && item !== "") url.searchParams.append(k, item);
      }
    }
  }
  const headers = { Accept: "application/json", ...(auth === undefined ? authHeaders() : authHeaders(auth)) };
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let resp;
  try {
    resp = await fetch(url, init);
  } catch (e) {
    throw new ApiError(`cannot reach the server: ${e.message}`, 0);
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!resp.ok) {
    const message = typeof data === "string" ? data : data?.message || data?.error || resp.statusText;
    if ((resp.status === 401 || resp.status === 403) && !quiet) {
      window.dispatchEvent(new CustomEvent("ampp:denied", { detail: resp.status }));
    }
    throw new ApiError(`${resp.status}: ${message}`, resp.status);
  }
  return data;
}
