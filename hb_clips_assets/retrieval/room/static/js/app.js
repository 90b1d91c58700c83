// The clip room: sign in, search in hockey language, watch, reel, take it away.

import { createApi } from "./api.js";
import { HlsReel } from "./hlsreel.js";
import { clipCount, el, spokenDuration } from "./format.js";
import { bindKeys, SHORTCUTS } from "./keys.js";
import { LinkKeeper } from "./links.js";
import { catchEverything, clearMessages, notify } from "./messages.js";
import { Player } from "./player.js";
import { Reel } from "./reel.js";
import { Results } from "./results.js";
import { SearchForm } from "./search.js";
import { session, signIn } from "./session.js";
import { roomParam, searchFromUrl, writeUrl } from "./state.js";
import { renderStats } from "./stats.js";
import { reelSupport, showMode } from "./stream.js";
import { bindTakeaway, updateDownload } from "./takeaway.js";

catchEverything();
const $ = (id) => document.getElementById(id);
const api = createApi(session.key);
let search = new URLSearchParams(); // the search on screen (API names)
let nextAfter = null;
let generation = 0; // a newer search makes the answers of older ones stale

const links = new LinkKeeper(api, (ids) => {
  results.refreshLinks(ids);
  if (player.clip && ids.includes(player.clip.clip_id)) updateDownload(player.clip);
});
const results = new Results($("results"), $("more"), {
  onPick: (clip, index) => (reel.active ? reel.go(index) : open(clip)),
  loadMore: () => loadPage(generation),
});
results.onThumbFailed = () => links.renewDue();
const player = new Player($("player-panel"), links, {
  onEnded: () => reel.ended(),
  onLoaded: (clip) => { results.highlight(clip.clip_id); updateDownload(clip); writeUrl(search, { clip: clip.clip_id }); },
});
const reel = new Reel(player, results, {
  onChange: (r) => {
    $("play-all").setAttribute("aria-pressed", String(r.active));
    $("play-all").textContent = r.active ? "■ Stop reel" : "▶ Play all";
    document.body.dataset.reel = r.active ? `${r.index + 1}/${r.source.length}` : "";
  },
});
reelSupport(player.video).then((support) => { // one HLS stream where the browser can, else clip by clip
  showMode(support.mode, support.why);
  if (support.mode === "mp4") return;
  reel.hls = new HlsReel(player, results, support, {
    api, key: session.key, search: () => search,
    onClip: (clip) => reel.playing(clip), onFail: (why) => reel.streamFailed(why),
  });
});
const form = new SearchForm($("search-form"), $("chips"), { onSearch: (params) => runSearch(params, { push: true }) });

function open(clip) {
  reel.active && reel.stop();
  return player.load(clip, { autoplay: true });
}

function step(delta) {
  const i = results.indexOf(player.clip && player.clip.clip_id) + delta;
  if (i < 0 || i >= results.items.length) return;
  if (reel.active) reel.go(i);
  else player.load(results.items[i], { autoplay: !player.paused });
}

async function loadPage(gen) {
  const params = new URLSearchParams(search);
  if (nextAfter) params.set("after", nextAfter);
  const page = await api.get("/clips/", params);
  if (gen !== generation) return null;
  links.track(page.items);
  results.append(page.items);
  nextAfter = page.next_after;
  results.setMore(Boolean(nextAfter));
  return page;
}

async function runSearch(params, { push = false } = {}) {
  const gen = ++generation;
  search = new URLSearchParams(params);
  writeUrl(search, { push });
  form.fill(search);
  reel.active && reel.stop();
  nextAfter = null;
  results.reset();
  links.forget();
  $("count").textContent = "Searching…";
  document.body.dataset.searching = "1";
  try {
    const [page, stats] = await Promise.all([loadPage(gen), api.get("/clips/stats/overview", search)]);
    if (gen !== generation || !page) return;
    form.renderChips(search, page.parsed);
    const exact = page.total_is_exact;
    $("count").textContent = page.items.length
      ? `${clipCount(stats.clips, true)}, ${spokenDuration(stats.duration_s)}`
      : "No clips match. Remove a chip or a filter to widen the search.";
    $("count").dataset.total = String(exact ? page.total : stats.clips);
    renderStats($("stats"), stats, (name, value) => {
      const next = new URLSearchParams(search);
      next.delete(name);
      next.append(name, value);
      runSearch(next, { push: true });
    });
  } catch (err) {
    if (gen !== generation) return;
    $("count").textContent = "The search did not run.";
    notify(err.userMessage || String(err), "error");
  } finally {
    if (gen === generation) delete document.body.dataset.searching;
  }
}

async function openFromUrl() {
  const wanted = roomParam("clip");
  if (!wanted) return;
  let clip = results.items.find((c) => c.clip_id === wanted);
  try {
    if (!clip) { clip = await api.get(`/clips/${encodeURIComponent(wanted)}`); links.track([clip]); }
    await player.load(clip, { autoplay: false });
  } catch (err) {
    notify(err.status === 404 ? "The shared clip is not there, or not your team's." : err.userMessage, "error");
  }
}

function setView(view) {
  results.setView(view);
  for (const b of document.querySelectorAll("[data-view]")) b.setAttribute("aria-pressed", String(b.dataset.view === view));
}

$("play-all").addEventListener("click", async () => {
  if (reel.active) { reel.stop(); player.pause(); return; }
  if (!(await reel.start(0))) notify("Nothing to play: the search found no clips.");
});
for (const b of document.querySelectorAll("[data-view]")) {
  b.addEventListener("click", () => { setView(b.dataset.view); writeUrl(search, { view: b.dataset.view }); });
}
$("prev-clip").addEventListener("click", () => step(-1));
$("next-clip").addEventListener("click", () => step(1));
$("shortcuts").replaceChildren(...SHORTCUTS.map(([k, what]) => el("li", {}, el("kbd", { text: k }), ` ${what}`)));
bindKeys(player, {
  next: () => step(1), previous: () => step(-1),
  playAll: () => $("play-all").click(), focusSearch: () => $("q").focus(),
});
bindTakeaway(api, { search: () => search, clip: () => player.clip });
window.addEventListener("popstate", () => runSearch(searchFromUrl()));

signIn(api, async () => {
  clearMessages();
  setView(roomParam("view") || "grid");
  await runSearch(searchFromUrl());
  await openFromUrl();
  document.body.dataset.ready = "1";
});
