// Messages to the coach: API errors in words, never a blank page.

const box = () => document.getElementById("messages");

/** Show a message; kind: "error" | "info". Errors stay until dismissed, info fades after a while. */
export function notify(text, kind = "info", { extra = null, timeoutMs = 6000 } = {}) {
  const item = document.createElement("div");
  item.className = `message ${kind}`;
  item.setAttribute("role", kind === "error" ? "alert" : "status");
  const span = document.createElement("span");
  span.textContent = text;
  item.append(span);
  if (extra) item.append(extra);
  const close = document.createElement("button");
  close.type = "button";
  close.className = "close";
  close.setAttribute("aria-label", "Dismiss message");
  close.textContent = "×";
  close.addEventListener("click", () => item.remove());
  item.append(close);
  box().append(item);
  while (box().children.length > 4) box().firstElementChild.remove();
  if (kind !== "error") setTimeout(() => item.remove(), timeoutMs);
  return item;
}

export function clearMessages() {
  box().replaceChildren();
}

/** Anything thrown anywhere ends up as a message. */
export function catchEverything() {
  window.addEventListener("error", (e) => notify(`Something went wrong in the page: ${e.message}`, "error"));
  window.addEventListener("unhandledrejection", (e) => {
    const reason = e.reason;
    notify(reason && reason.userMessage ? reason.userMessage : `Something went wrong: ${reason && reason.message || reason}`,
      "error");
  });
}
