// The keyboard habits of video coaches (Sportscode, Insight): the room's shortcuts.

export const SHORTCUTS = [
  ["Space", "play / pause"],
  ["K", "pause"],
  ["L", "play (again: faster)"],
  ["J", "back one second"],
  ["← →  or  , .", "one frame back / forward (pauses)"],
  ["1 2 3", "speed 0.25× / 0.5× / 1×"],
  ["R", "loop the clip"],
  ["M", "sound on / off"],
  ["E", "the event frame"],
  ["N P  or  Shift+→ ←", "next / previous clip"],
  ["A", "play all (reel)"],
  ["/", "search"],
];

function typing(target) {
  const tag = target && target.tagName;
  if (tag === "INPUT") return !["range", "checkbox", "button", "submit"].includes(target.type);
  return tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
}

/** Keys on the page drive the player; none while the coach types in a field. */
export function bindKeys(player, { next, previous, playAll, focusSearch }) {
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const key = event.key;
    if (key === "/") { focusSearch(); event.preventDefault(); return; }
    if ((key === "a" || key === "A") && !event.shiftKey) { playAll(); event.preventDefault(); return; }
    if (!player.clip) return;
    const actions = {
      " ": () => player.toggle(),
      k: () => player.pause(),
      l: () => (player.paused ? player.play() : player.setRate(Math.min(2, player.rate * 2))),
      j: () => player.seekSeconds(-1),
      ArrowLeft: () => (event.shiftKey ? previous() : player.step(-1)),
      ArrowRight: () => (event.shiftKey ? next() : player.step(1)),
      ",": () => player.step(-1),
      ".": () => player.step(1),
      "1": () => player.setRate(0.25),
      "2": () => player.setRate(0.5),
      "3": () => player.setRate(1),
      r: () => player.setLoop(!player.loop),
      m: () => player.setMuted(!player.video.muted),
      e: () => player.eventFrame(),
      Home: () => { player.pause(); player.seekFrame(0); },
      End: () => { player.pause(); player.seekFrame(player.frames - 1); },
      n: () => next(),
      p: () => previous(),
    };
    const action = actions[key] || actions[key.toLowerCase()];
    if (!action) return;
    event.preventDefault();
    action();
  });
}
