// Signed media links expire: renew them (GET /api/v2/links) before they do, and when one is refused.

const CHUNK = 100; // ids per /links request (the API's maximum)

/** When a signed URL stops working (ms since the epoch); Infinity when it carries no expiry. */
export function expiryOf(href) {
  let url;
  try { url = new URL(href, location.href); } catch { return Infinity; }
  const exp = url.searchParams.get("exp"); // this API's media route
  if (exp && /^\d+$/.test(exp)) return Number(exp) * 1000;
  const date = url.searchParams.get("X-Goog-Date"); // a GCS V4 signed URL: 20260101T120000Z + seconds
  const expires = url.searchParams.get("X-Goog-Expires");
  const m = date && /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(date);
  if (m && expires) return Date.UTC(m[1], m[2] - 1, m[3], m[4], m[5], m[6]) + Number(expires) * 1000;
  return Infinity;
}

export function clipExpiry(clip) {
  return Math.min(...Object.values(clip.assets || {}).map((a) => expiryOf(a.url)), Infinity);
}

export class LinkKeeper {
  constructor(api, onRenewed) {
    this.api = api;
    this.onRenewed = onRenewed; // (clipIds) => void
    this.clips = new Map(); // clip_id -> clip (the same objects the page shows)
    this.timer = null;
    this.lifetimeMs = null; // learnt from the first links the server makes
    this.skewMs = 0; // this browser's clock minus the server's (links expire on the server's clock)
    this.renewals = 0;
  }

  /** Renew when less than this is left: a tenth of the links' lifetime, between 15 s and 5 min. */
  margin(clip) {
    const life = this.lifetimeMs || this.expiry(clip) - Date.now(); // (the second: links seen expired)
    return Math.min(300_000, Math.max(15_000, (Number.isFinite(life) ? life : 3_600_000) / 10));
  }

  /** When the clip's first link expires, on this browser's clock. */
  expiry(clip) {
    return clipExpiry(clip) + this.skewMs;
  }

  needsRenewal(clip, now = Date.now()) {
    return this.expiry(clip) - now < this.margin(clip);
  }

  track(clips) {
    const now = Date.now();
    for (const clip of clips) {
      this.clips.set(clip.clip_id, clip);
      const left = clipExpiry(clip) - now; // fresh links: their lifetime, until /links says it
      if (!this.lifetimeMs && Number.isFinite(left) && left > 0) this.lifetimeMs = left;
    }
    this.schedule();
  }

  forget() {
    this.clips.clear();
    clearTimeout(this.timer);
  }

  schedule() {
    clearTimeout(this.timer);
    let soonest = Infinity;
    for (const clip of this.clips.values()) soonest = Math.min(soonest, this.expiry(clip) - this.margin(clip));
    if (!Number.isFinite(soonest)) return;
    const wait = Math.max(10_000, soonest - Date.now()); // never a renewal loop, whatever the clocks say
    this.timer = setTimeout(() => this.renewDue().catch(() => this.schedule()), Math.min(wait, 2 ** 31 - 1));
  }

  async renewDue() {
    const now = Date.now();
    const due = [...this.clips.values()].filter((c) => this.needsRenewal(c, now)).map((c) => c.clip_id);
    if (due.length) await this.renew(due);
    else this.schedule();
  }

  /** New links for these clips, written into the clip objects. */
  async renew(ids) {
    const renewed = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const body = await this.api.get("/links", { clip: ids.slice(i, i + CHUNK) });
      this.lifetimeMs = body.expires_in_s ? body.expires_in_s * 1000 : this.lifetimeMs;
      if (body.issued_at) this.skewMs = Date.now() - body.issued_at * 1000;
      for (const fresh of body.clips) {
        const clip = this.clips.get(fresh.clip_id);
        if (!clip) continue;
        for (const [kind, url] of Object.entries(fresh.urls)) if (clip.assets[kind]) clip.assets[kind].url = url;
        renewed.push(fresh.clip_id);
      }
    }
    this.renewals += 1;
    document.documentElement.dataset.linkRenewals = String(this.renewals);
    this.schedule();
    if (renewed.length) this.onRenewed(renewed);
    return renewed;
  }

  /** The clip with links good for a while yet (renewed first when they are not). */
  async fresh(clip) {
    if (this.needsRenewal(clip)) {
      const due = [...this.clips.values()].filter((c) => this.needsRenewal(c)).map((c) => c.clip_id);
      await this.renew(due.includes(clip.clip_id) ? due : [clip.clip_id, ...due]);
    }
    return clip;
  }
}
