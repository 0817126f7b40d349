// A queue's page: its figures, workers and dead letters (drawn again at each
// refresh), and the forms that change it (drawn once, so that what a person
// types survives the refreshes).
import { ago, element, figures, getJson, human, say, segment, send, tell } from "./common.js";
import { workerTable } from "./workers.js";

const SETTINGS = [
  ["lease", "Lease (s, 0: for good)"],
  ["max_attempts", "Attempts before the dead letters"],
  ["backoff_base", "First retry after (s)"],
  ["backoff_cap", "Longest retry delay (s)"],
];
const DEAD_LISTED = 50;

/** The page of C{queue}, drawn into C{main}: the function that draws its live part again. */
export function queuePage(main, queue) {
  const path = segment(queue);
  const live = element("div", { id: "live" });
  const settings = settingsForm(path);
  main.replaceChildren(
    element("p", {}, element("a", { href: "#/" }, "← every queue")),
    element("h2", { id: "queue-title" }, queue, " ", element("span", { id: "queue-state" })),
    element("div", { class: "actions" },
      element("button", { id: "toggle", type: "button",
                          onclick: (event) => toggle(path, event.target) }, "…"),
      element("button", { id: "purge", type: "button", class: "danger",
                          onclick: () => purge(path, queue) }, "Purge…")),
    live,
    element("div", { class: "columns" }, settings, postForm(path), findForm(path)),
  );
  let filled = false;
  return async () => {
    const view = await getJson(`/queues/${path}`);
    const dead = await getJson(`/dead/${path}?limit=${DEAD_LISTED}`);
    drawLive(live, view, dead, path);
    const state = main.querySelector("#queue-state");
    state.textContent = view.status;
    state.className = `state ${view.status}`;
    const toggler = main.querySelector("#toggle");
    toggler.textContent = view.status === "open" ? "Pause" : "Resume";
    toggler.dataset.status = view.status;
    if (!filled) {
      for (const [name] of SETTINGS) settings.elements[name].value = view.settings[name];
      filled = true;
    }
    say(`updated ${new Date().toLocaleTimeString()}`);
  };
}

function drawLive(live, view, dead, path) {
  const totals = view.totals;
  live.replaceChildren(
    figures(Object.entries(view.counts)),
    element("p", { class: "muted", id: "totals" },
      `${human(totals.enqueued)} enqueued · ${human(totals.delivered)} delivered · ` +
      `${human(totals.acked)} acked · ${human(totals.failed)} failed · ` +
      `${human(totals.retried)} retried · ${human(totals.dead)} dead-lettered · ` +
      `${human(totals.expired)} leases expired`),
    element("h3", {}, `Workers (${view.workers.length})`),
    view.workers.length ? workerTable(view.workers)
                        : element("p", { class: "muted" }, "No worker seen on this queue."),
    element("h3", {}, `Dead letters (${dead.total})`),
    deadLetters(dead, path),
  );
}

function deadLetters(dead, path) {
  if (!dead.total) return element("p", { class: "muted" }, "None.");
  const rows = dead.jobs.map((letter) => {
    const last = letter.errors.length ? letter.errors[letter.errors.length - 1].error : "";
    return element("tr", { "data-dead": letter.id },
      element("td", {}, element("code", {}, letter.id)),
      element("td", {}, ago(letter.dead_since)),
      element("td", {}, String(letter.attempts)),
      element("td", {}, last),
      element("td", {},
        element("button", { type: "button", onclick: () => act(
          send("POST", `/dead/${path}/retry`, { ids: [letter.id] }), "retried") }, "Retry"),
        element("button", { type: "button", class: "danger", onclick: () => act(
          send("DELETE", `/dead/${path}/${segment(letter.id)}`), "deleted") }, "Delete")));
  });
  return element("div", {},
    element("div", { class: "actions" },
      element("button", { id: "retry-all", type: "button", onclick: () => act(
        send("POST", `/dead/${path}/retry`), "all retried") }, "Retry all"),
      element("button", { id: "drop-all", type: "button", class: "danger", onclick: () =>
        confirm("Delete every dead letter of this queue?") &&
        act(send("DELETE", `/dead/${path}`), "all deleted") }, "Delete all")),
    element("table", { id: "dead" },
      element("thead", {}, element("tr", {}, ...["id", "died", "attempts", "last error", ""]
        .map((name) => element("th", { scope: "col" }, name)))),
      element("tbody", {}, ...rows)));
}

/** Run a state change, say how it went, and draw the page again. */
async function act(change, done) {
  try {
    await change;
    tell(done);
    window.dispatchEvent(new Event("presque:changed"));
  } catch (error) {
    tell(error.message, true);
  }
}

function toggle(path, button) {
  const open = button.dataset.status === "open";
  return act(send("POST", `/control/${path}`, { status: open ? "stop" : "start" }),
             open ? "paused" : "resumed");
}

function purge(path, queue) {
  if (!confirm(`Purge ${queue}: drop every job in every state?`)) return;
  return act(send("DELETE", `/q/${path}`), "purged");
}

function labelled(label, input) {
  return element("label", {}, element("span", {}, label), input);
}

function settingsForm(path) {
  const form = element("form", { id: "settings", "aria-labelledby": "settings-title" },
    element("h3", { id: "settings-title" }, "Settings"),
    ...SETTINGS.map(([name, label]) => labelled(label,
      element("input", { name, type: "number", min: "0", step: "any", required: "" }))),
    element("button", { type: "submit" }, "Save"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const changes = Object.fromEntries(SETTINGS.map(([name]) => [name, Number(form.elements[name].value)]));
    act(send("PATCH", `/queues/${path}`, changes), "settings saved");
  });
  return form;
}

function postForm(path) {
  const form = element("form", { id: "post", "aria-labelledby": "post-title" },
    element("h3", { id: "post-title" }, "Post a job"),
    labelled("Job (JSON)", element("textarea", { name: "job", rows: "5", spellcheck: "false" }, "{}")),
    labelled("Delay (s)", element("input", { name: "delay", type: "number", min: "0", step: "any" })),
    labelled("Priority (0-9)", element("input", { name: "priority", type: "number", min: "0", max: "9" })),
    labelled("Unique key", element("input", { name: "uniq", type: "text" })),
    element("p", { class: "error", role: "alert", id: "post-error" }),
    element("button", { type: "submit" }, "Post"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const error = form.querySelector("#post-error");
    const text = form.elements.job.value;
    try {
      JSON.parse(text);
    } catch (problem) {
      error.textContent = `Not JSON: ${problem.message}`;
      return;
    }
    error.textContent = "";
    const query = new URLSearchParams();
    const delay = Number(form.elements.delay.value);
    if (delay > 0) query.set("delayed", String(Date.now() / 1000 + delay));
    if (form.elements.priority.value) query.set("priority", form.elements.priority.value);
    if (form.elements.uniq.value) query.set("uniq", form.elements.uniq.value);
    act(send("POST", `/q/${path}?${query}`, text), "job posted");
  });
  return form;
}

function findForm(path) {
  const shown = element("pre", { id: "job-detail" });
  const form = element("form", { id: "find", "aria-labelledby": "find-title" },
    element("h3", { id: "find-title" }, "Find a job by id"),
    labelled("Job id", element("input", { name: "id", type: "text", required: "" })),
    element("button", { type: "submit" }, "Show"), shown);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const job = await getJson(`/q/${path}/${segment(form.elements.id.value.trim())}`);
      shown.textContent = JSON.stringify(job, null, 2);
    } catch (error) {
      shown.textContent = error.message;
    }
  });
  return form;
}
