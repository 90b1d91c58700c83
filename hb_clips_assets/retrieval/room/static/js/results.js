// The results: a grid (or list) of clip cards in the API's order, more pages as the coach scrolls.

import { clipContext, el, eventLabel, playerName } from "./format.js";

export class Results {
  constructor(list, more, { onPick, loadMore }) {
    this.list = list;
    this.more = more;
    this.onPick = onPick;
    this.loadMore = loadMore;
    this.items = [];
    this.loading = false;
    this.hasMore = false;
    more.addEventListener("click", () => this.next());
    // infinite scroll: the "more" button coming into view loads the next page
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.next();
    }, { rootMargin: "300px" });
    this.observer.observe(more);
  }

  reset() {
    this.items = [];
    this.list.replaceChildren();
    this.setMore(false);
  }

  setMore(hasMore) {
    this.hasMore = hasMore;
    this.more.hidden = !hasMore;
  }

  async next() {
    if (!this.hasMore || this.loading) return;
    this.loading = true;
    this.more.textContent = "Loading…";
    try {
      await this.loadMore();
    } finally {
      this.loading = false;
      this.more.textContent = "More clips";
    }
    // still in view (a short page, a tall screen): the observer will not fire again, so load on
    if (this.hasMore && this.more.getBoundingClientRect().top < innerHeight + 300) requestAnimationFrame(() => this.next());
  }

  append(clips) {
    const start = this.items.length;
    this.items.push(...clips);
    this.list.append(...clips.map((clip, i) => this.card(clip, start + i)));
  }

  card(clip, index) {
    const thumb = clip.assets.thumbnail;
    const img = el("img", { src: thumb ? thumb.url : null, alt: "", loading: "lazy", width: 320, height: 180,
      decoding: "async" });
    img.addEventListener("error", () => { img.dataset.failed = "1"; this.onThumbFailed && this.onThumbFailed(clip); });
    const seconds = `${clip.duration_s.toFixed(1)} s`;
    const button = el("button", {
      type: "button", class: "card", dataset: { clipId: clip.clip_id, index: String(index) },
      "aria-label": `${eventLabel(clip.event_type)} by ${playerName(clip)}, ${clipContext(clip)}, ${seconds}`,
      onclick: () => this.onPick(clip, index),
    },
    el("span", { class: "thumb" }, img, el("span", { class: "duration", text: seconds })),
    el("span", { class: "card-body" },
      el("span", { class: "event", text: eventLabel(clip.event_type) }),
      el("span", { class: "by", text: playerName(clip) }),
      el("span", { class: "context", text: clipContext(clip) })));
    return el("li", { dataset: { clipId: clip.clip_id } }, button);
  }

  indexOf(clipId) {
    return this.items.findIndex((c) => c.clip_id === clipId);
  }

  /** The clip playing, marked in the list (and kept in view). */
  highlight(clipId) {
    for (const li of this.list.children) {
      const on = li.dataset.clipId === clipId;
      li.classList.toggle("current", on);
      const button = li.firstElementChild;
      if (on) { button.setAttribute("aria-current", "true"); li.scrollIntoView({ block: "nearest" }); }
      else button.removeAttribute("aria-current");
    }
  }

  /** New signed links arrived: thumbnails that failed (or not yet loaded) take them. */
  refreshLinks(ids) {
    const wanted = new Set(ids);
    for (const li of this.list.children) {
      if (!wanted.has(li.dataset.clipId)) continue;
      const clip = this.items[Number(li.firstElementChild.dataset.index)];
      const img = li.querySelector("img");
      if (clip && img && clip.assets.thumbnail && (img.dataset.failed || !img.complete)) {
        delete img.dataset.failed;
        img.src = clip.assets.thumbnail.url;
      }
    }
  }

  setView(view) {
    this.list.classList.toggle("grid", view !== "list");
    this.list.classList.toggle("list", view === "list");
  }
}
