// Signing in with an API key: kept in this tab's session storage, checked with GET /api/v2/whoami.

const STORAGE = "hb-clips-key";

export const session = {
  key: () => sessionStorage.getItem(STORAGE),
  who: null,
};

function show(signedIn) {
  document.getElementById("signin").hidden = signedIn;
  document.getElementById("room").hidden = !signedIn;
  document.getElementById("who").hidden = !signedIn;
}

function describe(who) {
  const role = who.role.charAt(0).toUpperCase() + who.role.slice(1);
  const player = who.player_name ? ` · ${who.player_name}` : "";
  return { role: `${role}${player}`, team: who.team ? `${who.team_name || who.team}` : "All teams", sees: who.sees };
}

export function signOut() {
  sessionStorage.removeItem(STORAGE);
  location.reload(); // nothing of the key's stays on screen or playing
}

/** Sign in with the stored key (if any) or wait for the form; resolves once a key is accepted. */
export function signIn(api, onSignedIn) {
  const form = document.getElementById("signin-form");
  const error = document.getElementById("signin-error");

  async function accept(key) {
    const previous = sessionStorage.getItem(STORAGE);
    sessionStorage.setItem(STORAGE, key);
    try {
      session.who = await api.get("/whoami");
    } catch (err) {
      if (previous && previous !== key) sessionStorage.setItem(STORAGE, previous);
      else sessionStorage.removeItem(STORAGE);
      error.textContent = err.status === 401 ? "That key was not accepted. Check it and try again." : err.userMessage;
      show(false);
      return false;
    }
    error.textContent = "";
    const text = describe(session.who);
    document.getElementById("who-role").textContent = text.role;
    document.getElementById("who-team").textContent = text.team;
    document.getElementById("who-team").title = `This key sees ${text.sees}`;
    show(true);
    await onSignedIn(session.who);
    return true;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = document.getElementById("key").value.trim();
    if (!key) { error.textContent = "Enter your API key."; return; }
    if (await accept(key)) document.getElementById("key").value = "";
  });
  document.getElementById("sign-out").addEventListener("click", signOut);
  const stored = sessionStorage.getItem(STORAGE);
  if (stored) return accept(stored);
  show(false);
  document.getElementById("key").focus();
  return Promise.resolve(false);
}
