// "Play all" as one stream: the search's reel (GET /api/v2/clips/reel.m3u8?<the search>) in one <video>.
//
// hls.js asks for the playlist with the key in the X-API-Key header (never in a URL); its segments are
// the API's signed media links, which need no key. The browser's own HLS cannot send a header, so it
// gets the playlist as a blob: URL, fetched with the key. Either way the clip on screen is told from
// currentTime and the reel's timeline (each clip's EXT-X-DATERANGE and durations), and next/previous
// seek inside the stream.

import { HLS_MIME, HLS_WORKER } from "./stream.js";
import { absolutePlaylist, clipAt, reelTimeline } from "./timeline.js";

const REEL = "/api/v2/clips/reel.m3u8";

export class HlsReel {
  constructor(player, results, support, { api, key, search, onClip, onFail }) {
    Object.assign(this, { player, results, support, api, key, search, onClip, onFail });
    this.timeline = [];
    this.entry = null;
    this.hls = null;
    this.blob = null;
  }

  get length() { return this.timeline.length; }
  get mode() { return this.support.mode; }

  /** Fetch the reel of the search on screen and attach it to the player; throws (an ApiError) if it cannot. */
  async open() {
    const { text, url } = await this.api.text("/clips/reel.m3u8", this.search());
    this.timeline = reelTimeline(text);
    if (!this.timeline.length) throw new Error("the reel has no clip in it");
    const video = this.player.useStream(this);
    this.entry = null;
    if (this.mode === "native") {
      this.blob = URL.createObjectURL(new Blob([absolutePlaylist(text, url)], { type: HLS_MIME }));
      video.src = this.blob;
      return;
    }
    const { Hls } = this.support;
    const key = this.key;
    this.hls = new Hls({
      workerPath: HLS_WORKER,
      xhrSetup: (xhr, href) => {
        xhr.open("GET", href, true);
        if (new URL(href).pathname === REEL) xhr.setRequestHeader("X-API-Key", key() || "");
      },
    });
    let opened = false;
    const ready = new Promise((resolve, reject) => {
      this.hls.once(Hls.Events.MANIFEST_PARSED, () => { opened = true; resolve(); });
      this.hls.on(Hls.Events.ERROR, (_event, data) => {
        if (!data.fatal) return;
        const why = data.response && data.response.code ? `HTTP ${data.response.code}` : data.details;
        if (opened) this.onFail(`the HLS stream failed (${why})`);
        else reject(new Error(`the HLS stream did not load (${why})`));
      });
    });
    this.hls.loadSource(url);
    this.hls.attachMedia(video);
    await ready;
  }

  close() {
    if (this.hls) this.hls.destroy();
    if (this.blob) URL.revokeObjectURL(this.blob);
    this.hls = this.blob = this.entry = null;
  }

  /** The native player refused the stream (hls.js says so through its own error event). */
  failed(error) {
    this.onFail(`the HLS stream failed (${error ? error.message || `media error ${error.code}` : "error"})`);
  }

  /** Play from clip ``index`` of the results: a seek inside the stream. */
  async play(index) {
    const wanted = this.results.items[index];
    const entry = this.timeline.find((e) => e.clipId === wanted.clip_id)
      || this.timeline.find((e) => this.results.indexOf(e.clipId) > index) || this.timeline[0];
    const clip = await this.clipFor(entry.clipId);
    if (!clip) return wanted;
    this.player.video.currentTime = entry.start + (0.5 * clip.fps_den) / clip.fps_num; // first: the page
    this.show(entry, clip); // shows the clip the stream is now at
    await this.player.play();
    return wanted;
  }

  /** Called as the stream plays (and seeks): on a new clip, the page follows; a looped clip starts again. */
  watch(t) {
    const on = this.entry;
    if (on && this.player.loop && (t < on.start || t >= on.start + on.duration - 0.5 / this.player.fps)) {
      if (!this.player.video.seeking) this.player.seekFrame(0);
      return;
    }
    const entry = clipAt(this.timeline, t);
    if (entry && entry !== on) this.enter(entry);
  }

  async enter(entry) {
    this.entry = entry;
    const clip = await this.clipFor(entry.clipId);
    if (this.entry === entry && clip) this.show(entry, clip);
  }

  show(entry, clip) {
    this.entry = entry;
    this.player.showClip(clip, entry.start);
    this.onClip(clip);
  }

  /** The clip's card (more pages loaded until it is there), or the clip asked for on its own. */
  async clipFor(clipId) {
    for (let n = 0; n < 100 && this.results.indexOf(clipId) < 0 && this.results.hasMore; n++) {
      await (this.results.loading ? new Promise((r) => setTimeout(r, 100)) : this.results.next());
    }
    const i = this.results.indexOf(clipId);
    return i >= 0 ? this.results.items[i] : this.api.get(`/clips/${encodeURIComponent(clipId)}`).catch(() => null);
  }
}
