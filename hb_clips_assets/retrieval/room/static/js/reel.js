// "Play all": the result set as one HLS stream where the browser plays HLS (hlsreel.js), else back to back,
// each clip's own MP4 with the next one preloaded so the join is short (Mp4Sequence; also the fallback
// when the HLS reel fails). A source has ``length`` and ``play(index)`` (an index into the results).

import { notify } from "./messages.js";
import { showMode } from "./stream.js";

export class Mp4Sequence {
  constructor(player, results) {
    this.player = player;
    this.results = results;
  }

  get length() { return this.results.items.length; }

  /** Play clip ``index`` and preload the one after it. */
  async play(index) {
    const clip = this.results.items[index];
    await this.player.load(clip, { autoplay: true });
    await this.preloadAfter(index);
    return clip;
  }

  async preloadAfter(index) {
    if (index + 1 >= this.length && this.results.hasMore) await this.results.next(); // the next page first
    const next = this.results.items[index + 1];
    if (next) await this.player.preload(next);
  }
}

export class Reel {
  constructor(player, results, { onChange = () => {} } = {}) {
    this.mp4 = new Mp4Sequence(player, results);
    this.source = this.mp4;
    this.hls = null; // an HlsReel where this browser plays HLS (set once that is known)
    this.player = player;
    this.results = results;
    this.index = -1;
    this.active = false;
    this.onChange = onChange;
  }

  get streaming() { return this.source !== this.mp4; }

  async start(from = 0) {
    if (!this.results.items.length) return false;
    this.active = true;
    this.source = this.mp4;
    if (this.hls) {
      try {
        await this.hls.open();
        this.source = this.hls;
        showMode(this.hls.mode, this.hls.support.why);
      } catch (err) {
        this.fallBack(err.userMessage || err.message);
      }
    }
    await this.go(from);
    return true;
  }

  /** No HLS reel (or it failed): say why, and play the clips back to back. */
  fallBack(why) {
    this.source = this.mp4;
    showMode("mp4", "clip by clip (MP4): the HLS reel did not play");
    notify(`The reel plays clip by clip: ${why}`, "error");
  }

  /** The HLS stream failed while playing: go on clip by clip from the clip on screen. */
  async streamFailed(why) {
    if (!this.streaming) return;
    this.fallBack(why);
    if (this.active) await this.go(Math.max(0, this.index));
  }

  stop() {
    this.active = false;
    this.onChange(this);
  }

  async go(index) {
    this.index = index;
    this.onChange(this);
    await this.source.play(index);
  }

  /** The stream is on another clip (it plays on by itself). */
  playing(clip) {
    const index = this.results.indexOf(clip.clip_id);
    if (!this.active || index < 0 || index === this.index) return;
    this.index = index;
    this.onChange(this);
  }

  /** The clip ended (the stream: the whole reel): on to the next, or the reel is over. */
  async ended() {
    if (!this.active) return;
    if (!this.streaming && this.index + 1 < this.source.length) await this.go(this.index + 1);
    else this.stop();
  }
}
