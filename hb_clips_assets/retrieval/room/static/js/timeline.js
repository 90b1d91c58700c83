// A reel's playlist read for the page: where each clip starts in the stream, and which clip a time is in.
//
// The reel (GET /api/v2/clips/reel.m3u8) opens every clip with an EXT-X-DATERANGE naming it (X-CLIP-ID)
// and, after the first, an EXT-X-DISCONTINUITY; a clip lasts the sum of its segments' EXTINF. Nothing
// here depends on how the segments are addressed (EXT-X-BYTERANGE or one signed URL per range).

const CLIP_ID = /#EXT-X-DATERANGE:.*?\bX-CLIP-ID="([^"]*)"/;

/** [{clipId, start, duration}] in the reel's order, in seconds of the stream as the playlist says. */
export function reelTimeline(text) {
  const clips = [];
  let current = null, at = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const id = CLIP_ID.exec(line);
    if (id) {
      current = { clipId: id[1], start: at, duration: 0 };
      clips.push(current);
    } else if (line.startsWith("#EXTINF:") && current) {
      const seconds = parseFloat(line.slice(8));
      if (Number.isFinite(seconds)) { current.duration += seconds; at += seconds; }
    }
  }
  return clips;
}

/** The entry playing at ``t`` seconds (the last one past the end, the first before the start). */
export function clipAt(timeline, t) {
  let lo = 0, hi = timeline.length - 1;
  while (lo < hi) { // the last entry whose start <= t
    const mid = (lo + hi + 1) >> 1;
    if (timeline[mid].start <= t + 1e-6) lo = mid; else hi = mid - 1;
  }
  return timeline[lo] || null;
}

/** The playlist with every URI made absolute against ``base`` (for a player given it as a blob: URL). */
export function absolutePlaylist(text, base) {
  const abs = (uri) => new URL(uri, base).href;
  return text.split(/\r?\n/).map((line) => {
    if (line && !line.startsWith("#")) return abs(line.trim());
    return line.replace(/URI="([^"]*)"/g, (_m, uri) => `URI="${abs(uri)}"`);
  }).join("\n");
}
