// What every view of the page shares: calls to the JSON API and building
// elements. Text from the server is always set as text, never as HTML.

// Every request says it comes from the page: with tokens on, a change that
// carries the session cookie without this header is refused (a cross-site one).
const PAGE_HEADERS = { Accept: "application/json", "X-Presque-Page": "1" };

/** An answer that is not a success, with its HTTP status. */
export class HttpError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** GET a JSON answer; an {"error"} answer is thrown with its message and status. */
export async function getJson(path) {
  return answerOf(await fetch(path, { headers: PAGE_HEADERS }));
}

/** A state change: C{method} with a JSON body (or none); its JSON answer, if any. */
export async function send(method, path, body) {
  const options = { method, headers: { ...PAGE_HEADERS } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  return answerOf(await fetch(path, options));
}

async function answerOf(reply) {
  const text = await reply.text();
  const body = text ? JSON.parse(text) : null;
  if (!reply.ok) throw new HttpError((body && body.error) || `HTTP ${reply.status}`, reply.status);
  return body;
}

// Who the page acts as: {auth: "off"}, or {auth: "on", name, scopes, queues}.
let identity = { auth: "off" };

/** Remember who the page acts as (from /whoami or /login). */
export function actAs(who) {
  identity = who;
}

/** A glob of fnmatch (*, ?, [seq], [!seq]) as a regular expression. */
function globToRegExp(pattern) {
  let source = "";
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i];
    const end = c === "[" ? pattern.indexOf("]", i + 2) : -1;
    if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else if (end > 0) {
      const inside = pattern.slice(i + 1, end).replace(/^!/, "^").replace(/[\\\]]/g, "\\$&");
      source += `[${inside}]`;
      i = end;
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}

/** Whether the page may use C{scope} on C{queue} (on every queue when none is named). */
export function can(scope, queue) {
  if (identity.auth !== "on") return true;
  if (!identity.scopes.includes(scope)) return false;
  if (queue === undefined) return identity.queues.includes("*");
  return identity.queues.some((pattern) => globToRegExp(pattern).test(queue));
}

/** A path segment for a queue or job name. */
export const segment = encodeURIComponent;

/** 1234 -> "1.2k": numbers for people. */
export function human(n) {
  if (n < 1000) return String(n);
  const [unit, size] = [["G", 1e9], ["M", 1e6], ["k", 1e3]].find(([, size]) => n >= size);
  const scaled = n / size;
  return `${scaled < 10 ? scaled.toFixed(1).replace(/\.0$/, "") : Math.round(scaled)}${unit}`;
}

/** 1536 -> "1.5 KiB": sizes for people. */
export function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) { n /= 1024; unit += 1; }
  return `${unit && n < 10 ? n.toFixed(1) : Math.round(n)} ${units[unit]}`;
}

/** A unix time for people: "3 min ago", "in 2 h". */
export function ago(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const delta = seconds - Date.now() / 1000;
  const size = Math.abs(delta);
  const [unit, span] = size < 60 ? ["s", 1] : size < 3600 ? ["min", 60] : size < 86400 ? ["h", 3600] : ["d", 86400];
  const count = Math.round(size / span);
  return delta < 0 ? `${count} ${unit} ago` : `in ${count} ${unit}`;
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

/** A row of labelled figures, each findable by data-figure=<label>. */
export function figures(pairs) {
  return element("dl", { class: "figures" }, ...pairs.flatMap(([label, value]) => [
    element("dt", {}, label),
    element("dd", { "data-figure": label }, human(value)),
  ]));
}

/** Run a state change, say how it went, and draw the page again. */
export async function act(change, done) {
  try {
    await change;
    tell(done);
    window.dispatchEvent(new Event("presque:changed"));
  } catch (error) {
    tell(error.message, true);
  }
}

/** A table with a header row of C{columns}, scrolling sideways on narrow screens. */
export function table(attributes, columns, rows) {
  return element("div", { class: "scroll" }, element("table", attributes,
    element("thead", {}, element("tr", {},
      ...columns.map((name) => element("th", { scope: "col" }, name)))),
    element("tbody", {}, ...rows)));
}

/** Say C{text} in the page's status line (an error when C{bad}). */
export function say(text, bad = false) {
  sayIn("status", text, bad);
}

/** Tell how an action went (an error when C{bad}), until the next one. */
export function tell(text, bad = false) {
  sayIn("notice", text, bad);
}

function sayIn(id, text, bad) {
  const line = document.getElementById(id);
  line.textContent = text;
  line.classList.toggle("bad", bad);
}
