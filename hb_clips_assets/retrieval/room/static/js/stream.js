// Which way this browser plays a reel: one HLS stream through hls.js (Media Source Extensions; the file
// is copied into /room/vendor/ by `make install` from the npm registry), one HLS stream through the
// browser's own HLS, or clip by clip (each clip's MP4, back to back) where neither is there.

export const HLS_MODULE = "/room/vendor/hls.min.mjs";
export const HLS_WORKER = "/room/vendor/hls.worker.js";
export const HLS_MIME = "application/vnd.apple.mpegurl";

/** {mode: "hls.js" | "native" | "mp4", Hls, why}: the way, and in words for the page. */
export async function reelSupport(video) {
  let Hls = null;
  try {
    Hls = (await import(HLS_MODULE)).default;
  } catch { /* not installed (no npm where the package was built): the room plays reels clip by clip */ }
  if (Hls && Hls.isSupported()) return { mode: "hls.js", Hls, why: `one HLS stream (hls.js ${Hls.version})` };
  if (video.canPlayType(HLS_MIME)) return { mode: "native", Hls: null, why: "one HLS stream (the browser's own)" };
  return { mode: "mp4", Hls: null,
    why: Hls ? "clip by clip (MP4): this browser plays no HLS" : "clip by clip (MP4): hls.js is not installed" };
}

/** Say on the page how "play all" plays. */
export function showMode(mode, why) {
  const label = document.getElementById("reel-mode");
  label.textContent = `Reel: ${why}`;
  label.dataset.mode = mode;
  document.body.dataset.reelMode = mode;
}
