#!/usr/bin/env node
// A presque worker in Node.js (18 or newer: built-in fetch, no npm package)
// with leases, so that a job is never lost:
//
//   GET  /q/QUEUE?lease=S&wait=W    lease the next job (long-polling up to W s)
//   POST /q/QUEUE/ID/lease?seconds  extend the lease while the handler runs
//   DELETE /q/QUEUE/ID              ack: the job is done
//   PUT  /q/QUEUE/ID                fail, {"error": message}: retried after a
//                                   backoff, dead-lettered after max_attempts
//
//   node eg/worker.mjs URL QUEUE [MAX_JOBS]
//
// Environment: PRESQUE_LEASE (seconds, default 30), PRESQUE_WAIT (seconds the
// server may hold an empty fetch, default 20). The lease is extended every
// third of it, so it can be short (a dead worker's job comes back soon) while
// a handler runs as long as it needs. The worker exits after MAX_JOBS jobs
// (done or failed); without it, on SIGTERM or SIGINT, after the job in hand.

import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";

const [url, queue, maxJobsArg] = process.argv.slice(2);
if (!url || !queue) {
  console.error("usage: node eg/worker.mjs URL QUEUE [MAX_JOBS]");
  process.exit(2);
}
const maxJobs = maxJobsArg === undefined ? Infinity : Number(maxJobsArg);
if (!(maxJobs >= 1)) {
  console.error("MAX_JOBS must be a positive number");
  process.exit(2);
}
const lease = Number(process.env.PRESQUE_LEASE ?? 30);
const wait = Number(process.env.PRESQUE_WAIT ?? 20);
const workerId = `${hostname()}-${process.pid}`;
const jobsUrl = `${url.replace(/\/+$/, "")}/q/${encodeURIComponent(queue)}`;

// What a worker is for. Throw to fail the job; `signal` aborts when the lease
// is lost (the job went to another worker), so a long handler can give up.
// This one fails jobs that ask for it and sleeps `sleep` seconds if asked.
async function handle(job, { signal }) {
  if (job.sleep) await sleep(job.sleep * 1000, undefined, { signal });
  if (job.fail) throw new Error(typeof job.fail === "string" ? job.fail : "job asked to fail");
  console.log(`done ${JSON.stringify(job)}`);
}

const log = (...words) => console.error(`worker.mjs[${process.pid}]`, ...words);

// SIGTERM or SIGINT: finish the fetch in flight (at most `wait` seconds) and
// the job in hand, then stop. Aborting the fetch instead could leave a job
// leased to nobody until its lease ran out.
let stopping = false;
const idle = new AbortController(); // wakes up the pause between two polls
for (const name of ["SIGTERM", "SIGINT"]) {
  process.on(name, () => {
    log(`${name}: stopping after the job in hand`);
    stopping = true;
    idle.abort();
  });
}

// With tokens on ([auth] mode = on), PRESQUE_TOKEN needs the consume scope.
const auth = process.env.PRESQUE_TOKEN ? { Authorization: `Bearer ${process.env.PRESQUE_TOKEN}` } : {};

async function api(method, path, { headers = {}, body, signal } = {}) {
  return fetch(jobsUrl + path, {
    method,
    headers: { "X-presque-workerid": workerId, ...auth, ...headers },
    body,
    signal: signal ?? AbortSignal.timeout((wait + 30) * 1000),
  });
}

// Ack or fail, retrying while the server or its Redis is away.
async function settle(method, path, options) {
  for (let tries = 1; ; tries++) {
    try {
      const response = await api(method, path, options);
      if (![502, 503].includes(response.status) || tries === 10) return response;
    } catch (error) {
      if (tries === 10) throw error;
    }
    await sleep(1000);
  }
}

// Extend the lease every third of it until `stop()`; `lost` aborts when the
// server says the receipt is no longer current.
function keepLeased(id, receipt) {
  const lost = new AbortController();
  const timer = setInterval(async () => {
    try {
      const response = await api("POST", `/${id}/lease?seconds=${lease}`, {
        headers: { "X-Presque-Receipt": receipt },
      });
      if (response.status === 409 || response.status === 404) {
        log(`job ${id}: lease lost (${response.status})`);
        lost.abort(new Error("lease lost"));
        clearInterval(timer);
      } else if (!response.ok) {
        log(`job ${id}: extend answered ${response.status}: ${await response.text()}`);
      }
    } catch (error) {
      log(`job ${id}: extend failed: ${error.message}`); // try again next tick
    }
  }, (lease * 1000) / 3);
  return { signal: lost.signal, stop: () => clearInterval(timer) };
}

async function work(response) {
  const id = response.headers.get("x-presque-job-id");
  const receipt = response.headers.get("x-presque-receipt");
  const attempt = response.headers.get("x-presque-attempt");
  const text = await response.text();
  if (!receipt) throw new Error(`job ${id} came without a receipt: is the server older than leases?`);
  log(`job ${id} attempt ${attempt}`);
  const leased = keepLeased(id, receipt);
  let error = null;
  try {
    await handle(JSON.parse(text), { signal: leased.signal });
  } catch (caught) {
    error = caught;
  } finally {
    leased.stop();
  }
  if (leased.signal.aborted) return; // another worker has it now: nothing to settle
  const headers = { "X-Presque-Receipt": receipt };
  if (error === null) {
    const acked = await settle("DELETE", `/${id}`, { headers });
    log(`job ${id}: ${acked.status === 204 ? "acked" : `ack answered ${acked.status}`}`);
  } else {
    const message = String(error?.message ?? error);
    const failed = await settle("PUT", `/${id}`, {
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify({ error: message }),
    });
    const outcome = failed.ok ? await failed.json() : { state: `answer ${failed.status}` };
    log(`job ${id} failed (${message}): ${outcome.state}`);
  }
}

log(`serving ${jobsUrl} as ${workerId} (lease ${lease}s)`);
let handled = 0;
while (!stopping && handled < maxJobs) {
  const began = Date.now();
  let response;
  try {
    response = await api("GET", `?lease=${lease}&wait=${wait}`);
  } catch (error) {
    log(`fetch failed: ${error.cause?.message ?? error.message}`);
    await sleep(1000, undefined, { signal: idle.signal }).catch(() => {});
    continue;
  }
  if (response.status !== 200) {
    const body = await response.text();
    if (response.status !== 404) log(`fetch answered ${response.status}: ${body}`);
    // A server that honoured `wait` has waited already; one that does not
    // know it answers at once: poll again after a second.
    const rest = 1000 - (Date.now() - began);
    if (rest > 0) await sleep(rest, undefined, { signal: idle.signal }).catch(() => {});
    continue;
  }
  handled++;
  try {
    await work(response);
  } catch (error) {
    log(`job failed to run: ${error.message}`);
  }
}
log(`stopped after ${handled} jobs`);
