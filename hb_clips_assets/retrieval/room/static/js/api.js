// The REST API, with the signed-in key; its errors turned into sentences a coach can act on.

export const API = "/api/v2";

export class ApiError extends Error {
  constructor(status, userMessage, detail) {
    super(userMessage);
    this.status = status;
    this.userMessage = userMessage;
    this.detail = detail;
  }
}

function sayDetail(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => {
      const where = (d.loc || []).filter((p) => p !== "query").join(" ");
      return where ? `${where}: ${d.msg}` : d.msg;
    }).join("; ");
  }
  return "";
}

function messageFor(status, detail) {
  const said = sayDetail(detail);
  if (status === 401) return "Your API key was not accepted. Check it and sign in again.";
  if (status === 403) return "Your key may not do that.";
  if (status === 404) return said && said !== "Not Found" ? `Not found: ${said}.` : "That is not there (or not your team's).";
  if (status === 422) return `The search could not be run: ${said || "a filter has a value the server cannot read"}.`;
  if (status >= 500) return `The clip server had a problem (HTTP ${status}). Try again in a moment.`;
  return `The clip server answered HTTP ${status}${said ? `: ${said}` : ""}.`;
}

/** URLSearchParams from an object; arrays repeat the name, empty values are left out. */
export function toParams(values) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined && v !== null && v !== "" && v !== false) params.append(name, String(v));
    }
  }
  return params;
}

export function createApi(getKey) {
  async function request(path, params, as) {
    const query = params instanceof URLSearchParams ? params : toParams(params || {});
    const url = `${API}${path}${query.toString() ? `?${query}` : ""}`;
    let response;
    try {
      response = await fetch(url, { headers: { "X-API-Key": getKey() || "" } });
    } catch (err) {
      throw new ApiError(0, "Cannot reach the clip server. Is `hb-clips serve` still running?", String(err));
    }
    if (!response.ok) {
      let detail = "";
      try { detail = (await response.json()).detail; } catch { /* not JSON */ }
      throw new ApiError(response.status, messageFor(response.status, detail), detail);
    }
    if (as === "text") return { text: await response.text(), url: new URL(url, location.href).href };
    return as === "blob" ? { blob: await response.blob(), headers: response.headers } : response.json();
  }
  return {
    get: (path, params) => request(path, params, "json"),
    blob: (path, params) => request(path, params, "blob"),
    text: (path, params) => request(path, params, "text"), // {text, url}: the URL it came from, absolute
  };
}
