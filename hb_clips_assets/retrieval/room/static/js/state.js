// The search lives in the page's URL (same names as the API's parameters), so a link reproduces it.

export const FILTERS = ["q", "team", "opponent", "player", "game", "event", "period", "zone", "strength", "outcome",
  "date_from", "date_to", "last_games", "newest_first"];
const ROOM_ONLY = ["clip", "view"];

/** The search the URL holds, as URLSearchParams with only the API's filter names. */
export function searchFromUrl(href = location.href) {
  const url = new URL(href);
  const out = new URLSearchParams();
  for (const [name, value] of url.searchParams) {
    if (FILTERS.includes(name) && value.trim() !== "") out.append(name, value);
  }
  return out;
}

export function roomParam(name) {
  return new URL(location.href).searchParams.get(name);
}

/** Put a search (and the room's own clip/view settings) into the URL; push: a new history entry. */
export function writeUrl(search, { push = false, clip, view } = {}) {
  const url = new URL(location.href);
  const keep = {};
  for (const name of ROOM_ONLY) keep[name] = url.searchParams.get(name);
  if (clip !== undefined) keep.clip = clip;
  if (view !== undefined) keep.view = view;
  const params = new URLSearchParams(search);
  for (const name of ROOM_ONLY) if (keep[name]) params.set(name, keep[name]);
  url.search = params.toString();
  if (url.href === location.href) return;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}

/** A link to this search (and clip) for someone else; they sign in with their own key. */
export function shareUrl(search, clipId) {
  const url = new URL(location.origin + location.pathname);
  const params = new URLSearchParams(search);
  if (clipId) params.set("clip", clipId);
  url.search = params.toString();
  return url.href;
}
