// The search box and filter controls, and the chips that say what the search understood and ignored.

import { el, eventLabel } from "./format.js";

// The filter controls of the form: name -> how a chip names the value
const LABELS = { team: "team", opponent: "vs", player: "player", game: "game", event: "event", period: "period",
  zone: "zone", strength: "strength", outcome: "outcome", date_from: "from", date_to: "until",
  last_games: "last games", newest_first: "newest first" };
const CONTROLS = Object.keys(LABELS).filter((n) => n !== "game" && n !== "outcome");

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** ``q`` without the words of one chip. */
export function withoutWords(q, text) {
  const exact = new RegExp(`(^|[^\\w-])${escapeRegExp(text)}(?![\\w-])`, "i");
  let out = exact.test(q) ? q.replace(exact, "$1") : q;
  if (out === q) for (const word of text.split(/\s+/)) out = out.replace(new RegExp(`\\b${escapeRegExp(word)}\\b`, "i"), "");
  return out.replace(/\s+/g, " ").trim();
}

export class SearchForm {
  constructor(form, chips, { onSearch }) {
    this.form = form;
    this.chips = chips;
    this.onSearch = onSearch; // (URLSearchParams) => void
    form.addEventListener("submit", (event) => { event.preventDefault(); this.onSearch(this.read()); });
    for (const name of CONTROLS) {
      const control = form.elements[name];
      if (control && control.tagName === "SELECT") control.addEventListener("change", () => this.onSearch(this.read()));
      if (control && control.type === "checkbox") control.addEventListener("change", () => this.onSearch(this.read()));
    }
    form.querySelector("#clear").addEventListener("click", () => { this.fill(new URLSearchParams()); this.onSearch(this.read()); });
    this.extra = new URLSearchParams(); // filters with no control (game, outcome, several values of one)
  }

  /** The form's search as URLSearchParams (API names). */
  read() {
    const params = new URLSearchParams();
    const q = this.form.elements.q.value.trim();
    if (q) params.set("q", q);
    for (const name of CONTROLS) {
      const control = this.form.elements[name];
      if (control.type === "checkbox") { if (control.checked) params.set(name, "true"); }
      else if (control.value.trim()) params.set(name, control.value.trim());
    }
    for (const [name, value] of this.extra) params.append(name, value);
    return params;
  }

  fill(params) {
    this.form.elements.q.value = params.get("q") || "";
    this.extra = new URLSearchParams();
    for (const name of CONTROLS) {
      const control = this.form.elements[name];
      const values = params.getAll(name);
      if (control.type === "checkbox") control.checked = values[0] === "true";
      else control.value = values[0] || "";
      if (control.tagName === "SELECT" && values[0] && control.value !== values[0]) this.extra.append(name, values[0]);
      for (const more of values.slice(1)) this.extra.append(name, more);
    }
    for (const name of ["game", "outcome"]) for (const v of params.getAll(name)) this.extra.append(name, v);
  }

  /** Chips: what the plain-language request was understood as, what it ignored, and the filters set. */
  renderChips(params, parsed) {
    const chips = [];
    const remove = (change) => () => { const next = new URLSearchParams(params); change(next); this.fill(next); this.onSearch(next); };
    if (parsed) {
      for (const u of parsed.understood) {
        chips.push(this.chip(`${u.text}`, u.meaning, "understood",
          remove((p) => p.set("q", withoutWords(p.get("q") || "", u.text)))));
      }
      for (const word of parsed.ignored) {
        chips.push(this.chip(word, "ignored: not a filter", "ignored",
          remove((p) => p.set("q", withoutWords(p.get("q") || "", word)))));
      }
    }
    for (const [name, value] of params) {
      if (name === "q") continue;
      const shown = name === "event" ? eventLabel(value) : value === "true" ? "" : value;
      chips.push(this.chip(`${LABELS[name] || name}${shown ? `: ${shown}` : ""}`, "filter", "filter",
        remove((p) => { const keep = p.getAll(name).filter((v) => v !== value); p.delete(name); keep.forEach((v) => p.append(name, v)); })));
    }
    const notes = parsed && parsed.notes.length ? el("span", { class: "notes", text: parsed.notes.join(" ") }) : null;
    this.chips.replaceChildren(...chips, ...(notes ? [notes] : []));
    this.chips.hidden = !chips.length && !notes;
  }

  chip(text, meaning, kind, onRemove) {
    return el("span", { class: `chip ${kind}`, dataset: { kind } },
      el("span", { class: "chip-text", text }),
      kind === "filter" ? null : el("span", { class: "chip-meaning", text: meaning }),
      el("button", { type: "button", class: "chip-remove", "aria-label": `Remove ${text}`, onclick: onRemove, text: "×" }));
  }
}
