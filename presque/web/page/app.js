// The page at /: which view the address names (#/ the overview, #/queues/Q
// a queue, #/queues/Q/jobs/ID a queue showing one job, #/workers the
// workers, #/schedules the schedules), drawn again every few seconds while the tab is visible. With
// tokens on, it asks for one first (see login.js).
import { actAs, getJson, say } from "./common.js";
import { loginPage, showWho } from "./login.js";
import { overview } from "./overview.js";
import { queuePage } from "./queue.js";
import { schedulesPage } from "./schedules.js";
import { workersPage } from "./workers.js";

const REFRESH_MS = 2000;
let refresh = null;
let timer = null;

function route() {
  // A view of its own for each address: a refresh of the view left behind
  // that ends late draws into a view no longer shown.
  const main = document.createElement("div");
  document.querySelector("main").replaceChildren(main);
  const queue = location.hash.match(/^#\/queues\/([^/]+)(?:\/jobs\/(.+))?$/);
  if (queue) {
    const job = queue[2] && decodeURIComponent(queue[2]);
    refresh = queuePage(main, decodeURIComponent(queue[1]), job);
  }
  else if (location.hash === "#/workers") refresh = workersPage(main);
  else if (location.hash === "#/schedules") refresh = schedulesPage(main);
  else refresh = overview(main);
  update();
}

async function update() {
  clearTimeout(timer);
  timer = null;
  try {
    await refresh();
  } catch (error) {
    if (error.status === 401) return logIn();
    say(`Cannot reach presque: ${error.message}`, true);
  }
  clearTimeout(timer); // an update that overlapped this one set one too
  if (!document.hidden) timer = setTimeout(update, REFRESH_MS); // paused while nobody looks
}

/** Ask for a token; once it is taken, draw the view of the address. */
function logIn() {
  clearTimeout(timer);
  timer = null;
  refresh = async () => {};
  loginPage(document.querySelector("main"), (who) => { actAs(who); showWho(who, logIn); route(); });
}

async function start() {
  try {
    const who = await getJson("/whoami");
    actAs(who);
    showWho(who, logIn);
  } catch (error) {
    if (error.status === 401) return logIn();
  }
  route();
}

window.addEventListener("hashchange", route);
window.addEventListener("presque:changed", update);
document.addEventListener("visibilitychange", () => { if (!document.hidden) update(); });
start();
