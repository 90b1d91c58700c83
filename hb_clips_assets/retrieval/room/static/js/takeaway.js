// Take it away: the clip's MP4, the result set as Sportscode XML or OTIO, links to share.

import { el } from "./format.js";
import { notify } from "./messages.js";
import { expiryOf } from "./links.js";
import { shareUrl } from "./state.js";

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    notify(`${what} copied.`, "info");
  } catch {
    const field = el("input", { type: "text", readonly: true, value: text, class: "copy-field", "aria-label": what });
    notify(`${what} (copy it from here):`, "info", { extra: field, timeoutMs: 30_000 });
    field.focus();
    field.select();
  }
}

/** The player's download link, set to the clip's current signed MP4 link. */
export function updateDownload(clip) {
  const a = document.getElementById("download");
  if (!clip || !clip.assets.mp4) { a.hidden = true; return; }
  a.hidden = false;
  a.href = clip.assets.mp4.url;
  a.download = `${clip.event_type}-${clip.game_id}-P${clip.period}-${clip.clip_id.slice(0, 8)}.mp4`;
}

export function bindTakeaway(api, { search, clip }) {
  for (const button of document.querySelectorAll("[data-export]")) {
    button.addEventListener("click", async () => {
      const fmt = button.dataset.export;
      button.disabled = true;
      try {
        const { blob, headers } = await api.blob(`/clips/export/${fmt}`, search());
        saveBlob(blob, fmt === "otio" ? "clips.otio" : "clips.xml");
        notify(`Exported ${headers.get("X-Clip-Count") || "the"} clips as ${fmt === "otio" ? "OTIO" : "Sportscode XML"}.`);
      } catch (err) {
        notify(err.userMessage || String(err), "error");
      } finally {
        button.disabled = false;
      }
    });
  }
  document.getElementById("share").addEventListener("click", () => {
    const current = clip();
    copy(shareUrl(search(), current && current.clip_id), "Link to this clip (the receiver signs in with their key)");
  });
  document.getElementById("share-video").addEventListener("click", () => {
    const current = clip();
    if (!current) return;
    const until = expiryOf(current.assets.mp4.url);
    const when = Number.isFinite(until) ? ` (works without a key until ${new Date(until).toLocaleTimeString()})` : "";
    copy(current.assets.mp4.url, `Video link${when}`);
  });
}
