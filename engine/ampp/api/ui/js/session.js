// Who the user is and what their role lets them do (GET api/ampp/v1/whoami), so that no button
// is shown whose request would fail. Without authentication configured the server answers role
// "admin", method "none": everyone may do everything, as with Alertmanager's own UI.

import { api, credential } from "./api.js";

const RANKS = ["anonymous", "viewer", "operator", "admin"];
const LEAST = {
  read: "viewer",
  "silence:write": "operator",
  "delivery:redrive": "operator",
};

export const session = { name: "", role: null, method: null };

// Asks the server who we are; a stored credential it refuses is forgotten (expired, revoked).
export async function loadSession() {
  let me;
  try {
    me = await api("api/ampp/v1/whoami", { quiet: true });
  } catch (e) {
    if (e.status !== 401 || !credential.get()) throw e;
    credential.set(null);
    me = await api("api/ampp/v1/whoami", { quiet: true });
  }
  apply(me);
}

// Checks `value` (an Authorization header value) with the server, then keeps it.
export async function signIn(value) {
  const me = await api("api/ampp/v1/whoami", { auth: value, quiet: true });
  credential.set(value);
  apply(me);
}

export async function signOut() {
  credential.set(null);
  await loadSession();
}

function apply(me) {
  const changed = me.name !== session.name || me.role !== session.role || me.method !== session.method;
  session.name = me.name;
  session.role = me.role;
  session.method = me.method;
  if (changed) window.dispatchEvent(new CustomEvent("ampp:session"));
}

export function authOn() {
  return session.method !== null && session.method !== "none";
}

export function signedIn() {
  return authOn() && session.method !== "anonymous";
}

// Whether the credential is the page's own (signed in here) rather than the browser's or a proxy's.
export function ownCredential() {
  return Boolean(credential.get());
}

export function can(action) {
  if (!session.role) return true; // not known (the request failed): the server still decides
  return RANKS.indexOf(session.role) >= RANKS.indexOf(LEAST[action] || "admin");
}

// A refused request (401, 403) may mean the credential expired or the role changed: ask again,
// once at a time.
let asking = null;
window.addEventListener("ampp:denied", () => {
  if (!asking) asking = loadSession().catch((e) => console.warn("who am I:", e.message)).finally(() => { asking = null; });
});
