// The player: one clip at a time in a <video>, frame-exact stepping, speeds, loop, the event frame on the
// scrub bar. Two <video> elements take turns, so the reel can load the next clip while this one plays.

import { clipContext, clipTitle, clock } from "./format.js";
import { notify } from "./messages.js";

export const SPEEDS = [0.25, 0.5, 1];

export class Player {
  constructor(panel, links, { onEnded = () => {}, onLoaded = () => {} } = {}) {
    this.panel = panel;
    this.links = links;
    this.videos = [...panel.querySelectorAll("video")];
    this.active = 0;
    this.clip = null;
    this.rate = 1;
    this.loop = false;
    this.onEnded = onEnded;
    this.onLoaded = onLoaded;
    this.retried = new Map(); // clip id -> when its refused link was last renewed
    this.stream = null; // an HLS reel playing in this.video (see hlsreel.js), or null: one clip's MP4
    this.offset = 0; // where the clip starts in what this.video plays (seconds; 0 but in a reel stream)
    this.$ = (id) => document.getElementById(id);
    for (const video of this.videos) {
      video.addEventListener("timeupdate", () => video === this.video && this.render());
      video.addEventListener("seeked", () => video === this.video && this.render());
      video.addEventListener("play", () => { if (video === this.video) { this.render(); this.tick(); } });
      video.addEventListener("pause", () => video === this.video && this.render());
      video.addEventListener("ended", () => video === this.video && this.onEnded(this.clip));
      video.addEventListener("error", () => this.failed(video));
    }
    this.$("scrub").addEventListener("input", (e) => { this.pause(); this.seekFrame(Number(e.target.value)); });
    this.$("play").addEventListener("click", () => this.toggle());
    this.$("frame-back").addEventListener("click", () => this.step(-1));
    this.$("frame-fwd").addEventListener("click", () => this.step(1));
    this.$("loop").addEventListener("click", () => this.setLoop(!this.loop));
    this.$("mute").addEventListener("click", () => this.setMuted(!this.videos[0].muted));
    for (const button of panel.querySelectorAll("[data-speed]")) {
      button.addEventListener("click", () => this.setRate(Number(button.dataset.speed)));
    }
    this.setRate(1);
  }

  get video() { return this.videos[this.active]; }
  get standby() { return this.videos[1 - this.active]; }
  get fps() { return this.clip.fps_num / this.clip.fps_den; }
  get frames() { return this.clip.end_frame - this.clip.start_frame; }
  get paused() { return this.video.paused; }

  /** The frame shown, counted from the clip's first (0). */
  frame() {
    if (!this.clip) return 0;
    const t = this.video.currentTime - this.offset;
    return Math.min(this.frames - 1, Math.max(0, Math.floor(t * this.fps + 1e-4)));
  }

  async load(clip, { autoplay = true } = {}) {
    this.detachStream();
    await this.links.fresh(clip);
    const url = clip.assets.mp4.url;
    if (this.standby.dataset.clipId === clip.clip_id && this.standby.dataset.src === url) {
      this.video.pause();
      this.active = 1 - this.active; // the preloaded one takes over: the join is as short as a play()
    } else {
      this.video.pause();
      this.setSource(this.video, clip, url);
    }
    for (const [i, video] of this.videos.entries()) {
      video.classList.toggle("active", i === this.active);
      video.setAttribute("aria-hidden", String(i !== this.active));
    }
    this.video.loop = this.loop;
    this.video.playbackRate = this.rate;
    this.showClip(clip, 0);
    if (autoplay) await this.play();
    else if (this.video.currentTime !== 0.5 / this.fps) this.seekFrame(0);
    this.render();
  }

  /** An HLS reel takes over the active <video> (the other one idles); it is returned, to attach to. */
  useStream(stream) {
    this.detachStream();
    for (const video of this.videos) {
      video.pause();
      delete video.dataset.clipId;
      delete video.dataset.src;
    }
    this.standby.removeAttribute("src");
    this.standby.load();
    this.stream = stream;
    this.video.loop = false; // a looped clip is the reel's to replay (it knows where the clip ends)
    return this.video;
  }

  detachStream() {
    if (!this.stream) return;
    this.stream.close();
    this.stream = null;
    this.offset = 0;
    this.video.removeAttribute("src");
    this.video.load();
  }

  /** The page shows this clip (it starts ``offset`` seconds into what the <video> plays). */
  showClip(clip, offset) {
    this.clip = clip;
    this.offset = offset;
    this.panel.hidden = false;
    this.$("now-title").textContent = clipTitle(clip);
    this.$("now-context").textContent = clipContext(clip);
    const scrub = this.$("scrub");
    scrub.max = String(this.frames - 1);
    const at = (clip.event_frame - clip.start_frame + 0.5) / this.frames;
    this.$("event-mark").style.setProperty("--at", String(Math.min(1, Math.max(0, at))));
    this.$("event-mark").title = `event frame (${clip.event_frame - clip.start_frame + 1} of ${this.frames})`;
    this.panel.dataset.clipId = clip.clip_id;
    this.onLoaded(clip);
    this.render();
  }

  setSource(video, clip, url) {
    video.dataset.clipId = clip.clip_id;
    video.dataset.src = url;
    video.src = url;
    video.load();
  }

  /** Load the clip into the standby element so it can start at once. */
  async preload(clip) {
    if (!clip || this.standby.dataset.clipId === clip.clip_id) return;
    await this.links.fresh(clip);
    this.standby.preload = "auto";
    this.setSource(this.standby, clip, clip.assets.mp4.url);
  }

  async play() {
    if (!this.clip) return;
    if (this.frame() >= this.frames - 1 && !this.loop) this.seekFrame(0);
    try {
      await this.video.play();
    } catch (err) {
      if (err.name === "NotAllowedError" && !this.video.muted) { // the browser allows muted playback only
        this.setMuted(true);
        return this.play();
      }
      if (err.name !== "AbortError") notify(`The clip does not play: ${err.message}`, "error");
    }
  }

  setMuted(on) {
    for (const video of this.videos) video.muted = on;
    this.$("mute").setAttribute("aria-pressed", String(on));
  }

  pause() {
    if (!this.clip || this.video.paused) return;
    this.video.pause();
    this.seekFrame(this.frame()); // paused on a whole frame: the one the readout names
  }

  toggle() { return this.video.paused ? this.play() : this.pause(); }

  seekFrame(n) {
    if (!this.clip) return;
    const frame = Math.min(this.frames - 1, Math.max(0, Math.round(n)));
    this.video.currentTime = this.offset + (frame + 0.5) / this.fps; // mid-frame: no rounding lands on a neighbour
    this.render(frame);
  }

  step(delta) {
    if (!this.clip) return;
    const from = this.frame();
    if (!this.video.paused) this.video.pause();
    this.seekFrame(from + delta);
  }

  seekSeconds(delta) { this.step(Math.round(delta * this.fps)); }

  eventFrame() { if (this.clip) { this.pause(); this.seekFrame(this.clip.event_frame - this.clip.start_frame); } }

  setRate(rate) {
    this.rate = rate;
    for (const video of this.videos) { // the default too: a new source (the reel's stream, a preload) resets
      video.defaultPlaybackRate = rate; // playbackRate to it
      video.playbackRate = rate;
    }
    for (const button of this.panel.querySelectorAll("[data-speed]")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.speed) === rate));
    }
    this.$("rate").textContent = `${rate}×`;
  }

  setLoop(on) {
    this.loop = on;
    for (const video of this.videos) video.loop = on && !this.stream;
    this.$("loop").setAttribute("aria-pressed", String(on));
  }

  tick() {
    if (!this.video.paused) { this.render(); requestAnimationFrame(() => this.tick()); }
  }

  render(frame) {
    if (this.stream) this.stream.watch(this.video.currentTime); // a reel stream: on to the clip it plays now
    if (!this.clip) return;
    if (frame === undefined) frame = this.frame();
    const readout = this.$("readout");
    readout.dataset.frame = String(frame);
    readout.textContent = `frame ${frame + 1} / ${this.frames} · ${clock(frame / this.fps)} · ` +
      `period ${clock((this.clip.start_frame + frame) / this.fps)}`;
    this.$("scrub").value = String(frame);
    this.$("scrub").setAttribute("aria-valuetext", `frame ${frame + 1} of ${this.frames}`);
    const playing = !this.video.paused;
    this.$("play").textContent = playing ? "❚❚ Pause" : "▶ Play";
    this.$("play").setAttribute("aria-label", playing ? "Pause (space)" : "Play (space)");
    this.panel.dataset.state = playing ? "playing" : "paused";
  }

  /** A link the server refused (expired, most often): renew it once and go on where it stopped. */
  async failed(video) {
    if (this.stream && video === this.video) { this.stream.failed(video.error); return; }
    const clipId = video.dataset.clipId;
    if (!clipId) return;
    if (video !== this.video) { delete video.dataset.clipId; return; } // a preload: loaded again when due
    if (Date.now() - (this.retried.get(clipId) || 0) < 30_000 || !this.clip || this.clip.clip_id !== clipId) {
      notify(`This clip cannot be played (${video.error ? video.error.message || "media error" : "error"}).`, "error");
      return;
    }
    this.retried.set(clipId, Date.now());
    const at = video.currentTime, wasPlaying = !video.paused || this.panel.dataset.state === "playing";
    await this.links.renew([clipId]);
    this.setSource(video, this.clip, this.clip.assets.mp4.url);
    video.addEventListener("loadedmetadata", () => {
      video.currentTime = at;
      if (wasPlaying) this.play();
    }, { once: true });
  }
}
