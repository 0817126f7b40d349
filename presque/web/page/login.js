// Logging in with a token (when presque has tokens on): the server keeps it
// in an HttpOnly cookie that this page cannot read, only send.
import { element, say, send, tell } from "./common.js";

/** The login form, drawn into C{main}; C{done(identity)} once a token is taken. */
export function loginPage(main, done) {
  const error = element("p", { class: "error", role: "alert", id: "login-error" });
  const form = element("form", { id: "login", "aria-labelledby": "login-title" },
    element("h2", { id: "login-title" }, "Log in"),
    element("p", { class: "muted" }, "This presque needs a token. Its secret is kept in a cookie this page cannot read."),
    element("label", {}, element("span", {}, "Token"),
      element("input", { name: "token", type: "password", autocomplete: "current-password", required: "" })),
    error,
    element("button", { type: "submit" }, "Log in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const who = await send("POST", "/login", { token: form.elements.token.value });
      form.reset();
      done(who);
    } catch (problem) {
      error.textContent = problem.message;
    }
  });
  main.replaceChildren(form);
  say("a token is needed");
  form.elements.token.focus();
}

/** Who the page acts as, in the header, with a way to log out (tokens on only). */
export function showWho(who, loggedOut) {
  const line = document.getElementById("who");
  if (who.auth !== "on") {
    line.replaceChildren();
    return;
  }
  line.replaceChildren(`as ${who.name} (${who.scopes.join(", ")}) `,
    element("button", { type: "button", id: "logout", onclick: async () => {
      await send("POST", "/logout");
      line.replaceChildren();
      tell("logged out");
      loggedOut();
    } }, "Log out"));
}
