// Sign in: a user name and password (HTTP basic, auth.users) or an API key or token (a bearer
// credential: an `ampp_` key or a JWT). The server checks it (GET api/ampp/v1/whoami) before it
// is kept, for this tab only; every request then carries it.

import { h, mount, errorBox, toast } from "./dom.js";
import { session, signIn, signOut, authOn, signedIn, ownCredential } from "./session.js";

function basic(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

export function render(main, { query }) {
  const next = query.get("next") || "#/alerts";
  const problem = h("div", { role: "alert" });
  const user = h("input", { type: "text", id: "login-user", autocomplete: "username", required: true });
  const password = h("input", { type: "password", id: "login-password", autocomplete: "current-password", required: true });
  const key = h("input", { type: "password", id: "login-key", autocomplete: "off", required: true, spellcheck: "false", "aria-describedby": "login-key-help" });

  async function attempt(ev, value) {
    ev.preventDefault();
    mount(problem);
    try {
      await signIn(value);
    } catch (e) {
      const why = e.status === 401 ? "The server refused these credentials." : e.status === 429 ? "Too many attempts." : "Could not sign in.";
      mount(problem, h("p", { class: "error" }, `${why} (${e.message})`));
      return;
    }
    toast(`Signed in as ${session.name} (${session.role}).`);
    location.hash = next.startsWith("#/") && !next.startsWith("#/login") ? next : "#/alerts";
  }

  if (!authOn()) {
    mount(main, h("h1", null, "Sign in"),
      h("p", null, "This server has no authentication configured (no ", h("code", null, "auth:"), " section): everyone may do everything. ",
        h("a", { href: "#/alerts" }, "Go to the alerts.")));
    return null;
  }
  mount(main,
    h("h1", null, "Sign in"),
    signedIn()
      ? h("p", null, "You are signed in as ", h("strong", null, session.name), ` (${session.role}). `,
        ownCredential() ? h("button", { type: "button", onclick: async () => { await signOut(); toast("Signed out."); } }, "Sign out") : null)
      : h("p", null, session.role === "anonymous"
        ? "This Alertmanager++ needs to know who you are before it shows anything."
        : `Without signing in you are a ${session.role}.`),
    h("p", { class: "muted" }, "What you enter is checked by the server, then kept in this browser tab only and sent with each request."),
    h("div", { class: "cards" },
      h("form", { class: "card", "aria-labelledby": "h-login-user", onsubmit: (ev) => attempt(ev, basic(user.value.trim(), password.value)) },
        h("h2", { id: "h-login-user" }, "User name and password"),
        h("div", { class: "form single" },
          h("label", { for: "login-user" }, "User name", user),
          h("label", { for: "login-password" }, "Password", password)),
        h("button", { type: "submit", class: "primary" }, "Sign in")),
      h("form", { class: "card", "aria-labelledby": "h-login-key", onsubmit: (ev) => attempt(ev, `Bearer ${key.value.trim()}`) },
        h("h2", { id: "h-login-key" }, "API key or token"),
        h("div", { class: "form single" },
          h("label", { for: "login-key" }, "Key or token", key),
          h("span", { id: "login-key-help", class: "muted" }, "An ampp_ API key, or a JWT from your identity provider.")),
        h("button", { type: "submit", class: "primary" }, "Sign in with the key"))),
    problem);
  return null;
}
