// The public HTTP API, relative to the page (so it works under any route prefix or proxy path).

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// api("api/v2/alerts", {params: {filter: ["a=b"]}}) -> parsed JSON (null for an empty body).
export async function api(path, { method = "GET", params, body } = {}) {
  const url = new URL(path, document.baseURI);
  if (params) {
    for (const [k, v] of Object.entries(params)) {
      for (const item of Array.isArray(v) ? v : [v]) {
        if (item !== undefined && item !== null && item !== "") url.searchParams.append(k, item);
      }
    }
  }
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
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
    throw new ApiError(`${resp.status}: ${message}`, resp.status);
  }
  return data;
}
