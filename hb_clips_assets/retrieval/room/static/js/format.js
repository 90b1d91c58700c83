// How the room writes numbers and hockey words for people.

const EVENT_LABELS = { zone_exit: "Zone exit", zone_entry: "Zone entry", dump_in: "Dump-in", dump_out: "Dump-out",
  puck_recovery: "Puck recovery", blocked_shot: "Blocked shot", missed_shot: "Missed shot" };

export function eventLabel(type) {
  if (!type) return "";
  return EVENT_LABELS[type] || type.charAt(0).toUpperCase() + type.slice(1).replaceAll("_", " ");
}

export function periodLabel(period) {
  return period === "OT" ? "OT" : `P${period}`;
}

/** 272.4 -> "4 min 32 s"; 8 -> "8 s"; 3700 -> "1 h 1 min". */
export function spokenDuration(seconds) {
  const s = Math.round(seconds || 0);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), rest = s % 60;
  if (h) return `${h} h ${m} min`;
  return rest ? `${m} min ${rest} s` : `${m} min`;
}

/** Seconds as mm:ss.s (a position in a period video). */
export function clock(seconds) {
  const t = Math.max(0, seconds || 0);
  const m = Math.floor(t / 60), s = t - m * 60;
  return `${String(m).padStart(2, "0")}:${s.toFixed(1).padStart(4, "0")}`;
}

export function clipCount(n, exact = true) {
  return `${exact ? "" : "at least "}${n} clip${n === 1 ? "" : "s"}`;
}

export function playerName(clip) {
  return clip.player_name || clip.player_id;
}

export function clipTitle(clip) {
  return `${eventLabel(clip.event_type)} · ${playerName(clip)}`;
}

/** "WSH vs NYR · 2026-11-19 · P1 00:03.4" */
export function clipContext(clip) {
  const teams = clip.opponent ? `${clip.team} vs ${clip.opponent}` : clip.team;
  return [teams, clip.game_date || `game ${clip.game_id}`, `${periodLabel(clip.period)} ${clock(clip.event_s)}`]
    .join(" · ");
}

/** A DOM element: el("li", {class: "x", dataset: {id: 1}}, child, "text"). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}
