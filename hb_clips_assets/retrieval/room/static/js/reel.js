// "Play all": the result set back to back, the next clip preloaded so the join is short.
//
// The reel plays a *source*: today an Mp4Sequence (each clip's own MP4, two <video> elements taking
// turns). An HLS reel (GET /api/v2/clips/reel.m3u8?<the search>) is another source with the same
// three methods: it would set one <video>'s src to the playlist once and tell the clip playing from
// currentTime and the playlist's segment durations; the rest of the room does not change.

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
    this.source = new Mp4Sequence(player, results);
    this.results = results;
    this.index = -1;
    this.active = false;
    this.onChange = onChange;
  }

  async start(from = 0) {
    if (!this.source.length) return false;
    this.active = true;
    await this.go(from);
    return true;
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

  /** The clip ended: on to the next, or the reel is over. */
  async ended() {
    if (!this.active) return;
    if (this.index + 1 < this.source.length) await this.go(this.index + 1);
    else this.stop();
  }
}
