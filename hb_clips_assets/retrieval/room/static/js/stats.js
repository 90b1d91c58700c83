// The stats strip: GET /api/v2/clips/stats/overview for the current search, by event type, player, game.

import { clipCount, el, eventLabel, spokenDuration } from "./format.js";

function group(title, rows, pick) {
  if (!rows.length) return null;
  return el("div", { class: "stat-group" }, el("h3", { text: title }),
    el("ul", {}, rows.map((row) => el("li", {}, el("button", {
      type: "button", class: "stat", title: `Only ${row.label}`, onclick: () => pick(row.filter, row.value),
    }, el("span", { class: "stat-label", text: row.label }), el("span", { class: "stat-count", text: String(row.clips) }))))));
}

/** Render the overview; ``pick(filter, value)`` narrows the search to one bar. */
export function renderStats(box, stats, pick) {
  const types = stats.by_event_type.slice(0, 8).map((t) => ({
    label: eventLabel(t.event_type), clips: t.clips, filter: "event", value: t.event_type }));
  const players = stats.by_player.slice(0, 6).map((p) => ({
    label: p.name || p.player_id, clips: p.clips, filter: "player", value: p.player_id }));
  const games = stats.by_game.slice(0, 6).map((g) => ({
    label: g.date ? `${g.date} (${g.game_id})` : g.game_id, clips: g.clips, filter: "game", value: g.game_id }));
  box.replaceChildren(
    el("p", { class: "stat-total", id: "stat-total",
      text: `${clipCount(stats.clips)}, ${spokenDuration(stats.duration_s)}` }),
    group("By event", types, pick), group("By player", players, pick), group("By game", games, pick));
  box.hidden = false;
}
