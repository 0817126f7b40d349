#!/usr/bin/env bash
#
# A presque worker in shell (bash, curl, jq): lease a job, run a command with
# the job's JSON on its standard input, ack the job when the command exits 0,
# fail it (with the exit status as the error) otherwise. Failed jobs are
# retried by presque after a backoff, then dead-lettered.
#
#   PRESQUE_URL=http://127.0.0.1:8080 eg/worker.sh [-l LEASE] [-w WAIT] QUEUE COMMAND [ARG...]
#
#   -l LEASE   seconds a job is leased for (env PRESQUE_LEASE, default 60); it
#              should be longer than COMMAND ever runs: this worker does not
#              extend leases, and a job whose lease runs out is handed to
#              another worker
#   -w WAIT    seconds the server may hold a fetch while the queue is empty
#              (env PRESQUE_WAIT, default 20); a server that does not know
#              `wait` answers 404 at once, and the worker sleeps a second
#
# SIGTERM or SIGINT stops the worker between two jobs: a command that is
# running is waited for and its job acked or failed before the worker exits.
# (Send the signal to the worker's pid only; a signal sent to the whole
# process group, as Ctrl-C does, also reaches the command.)
#
# Example:
#   eg/worker.sh mail sh -c 'jq -e ".to" >/dev/null'

set -u

usage() {
    echo "usage: PRESQUE_URL=... $0 [-l LEASE] [-w WAIT] QUEUE COMMAND [ARG...]" >&2
    exit 2
}

url=${PRESQUE_URL:-http://127.0.0.1:8080}
# With tokens on ([auth] mode = on), $PRESQUE_TOKEN needs the consume scope.
auth=()
if [ -n "${PRESQUE_TOKEN:-}" ]; then auth=(-H "Authorization: Bearer $PRESQUE_TOKEN"); fi
url=${url%/}
lease=${PRESQUE_LEASE:-60}
wait_seconds=${PRESQUE_WAIT:-20}
while getopts "l:w:" option; do
    case $option in
        l) lease=$OPTARG ;;
        w) wait_seconds=$OPTARG ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
queue=$1
shift

for tool in curl jq; do
    command -v "$tool" >/dev/null || { echo "worker.sh: $tool is missing" >&2; exit 2; }
done

worker_id="${HOSTNAME:-$(hostname)}-$$"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

stopping=0
trap 'stopping=1' TERM INT

log() { echo "worker.sh[$$] $*" >&2; }

# api METHOD PATH [CURL ARG...]: one request; the status code (000 when the
# server could not be reached) goes to stdout, the body to $tmp/body and the
# headers to $tmp/headers.
api() {
    local method=$1 path=$2
    shift 2
    curl -sS -X "$method" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
        --max-time $((${wait_seconds%.*} + 30)) \
        -H "X-presque-workerid: $worker_id" "${auth[@]}" "$@" "$url$path" 2>"$tmp/curl-error"
}

# header NAME: a header of the last answer (names are case-insensitive).
header() {
    awk -v name="$(echo "$1" | tr '[:upper:]' '[:lower:]')" -F': *' '
        tolower($1) == name { sub(/\r$/, "", $2); print $2; exit }' "$tmp/headers"
}

# pause SECONDS: sleep, but wake up at once on SIGTERM.
pause() {
    sleep "$1" &
    wait $! 2>/dev/null || kill $! 2>/dev/null
}

# settle METHOD PATH [CURL ARG...]: ack or fail, retrying while the server
# or its Redis is away (connection refused, 502, 503).
settle() {
    local status tries
    for tries in 1 2 3 4 5 6 7 8 9 10; do
        status=$(api "$@")
        case $status in
            000 | 502 | 503) pause 1 ;;
            *) echo "$status"; return ;;
        esac
    done
    echo "$status"
}

# The queue name goes into URLs: percent-encode it.
path="/q/$(jq -rn --arg q "$queue" '$q | @uri')"
log "serving $path on $url as $worker_id (lease ${lease}s)"

while [ "$stopping" = 0 ]; do
    status=$(api GET "$path?lease=$lease&wait=$wait_seconds")
    case $status in
        200) ;;
        404) pause 1; continue ;;  # no job (or the queue is closed)
        000) log "server unreachable: $(cat "$tmp/curl-error")"; pause 1; continue ;;
        *) log "fetch answered $status: $(cat "$tmp/body")"; pause 1; continue ;;
    esac

    id=$(header X-Presque-Job-Id)
    receipt=$(header X-Presque-Receipt)
    attempt=$(header X-Presque-Attempt)
    if [ -z "$receipt" ]; then
        log "job $id came without a receipt: is the server older than leases?"
        exit 1
    fi
    cp "$tmp/body" "$tmp/job"
    log "job $id attempt $attempt: running $*"

    # The command runs in the foreground: a SIGTERM now only sets `stopping`
    # once the command is done, so its job is settled before the loop ends.
    "$@" <"$tmp/job"
    code=$?

    if [ "$code" = 0 ]; then
        status=$(settle DELETE "$path/$id" -H "X-Presque-Receipt: $receipt")
        case $status in
            204) log "job $id acked" ;;
            409) log "job $id: lease lost before the ack (the job went to another worker)" ;;
            *) log "job $id: ack answered $status: $(cat "$tmp/body")" ;;
        esac
    else
        error=$(jq -cn --arg e "exit status $code" '{error: $e}')
        status=$(settle PUT "$path/$id" -H "X-Presque-Receipt: $receipt" \
            -H 'Content-Type: application/json' --data-binary "$error")
        case $status in
            200) log "job $id failed with exit status $code: $(jq -r \
                    'if .state == "dead" then "dead-lettered"
                     else "retry at \(.next_run)" end' "$tmp/body")" ;;
            409) log "job $id: lease lost before the fail" ;;
            *) log "job $id: fail answered $status: $(cat "$tmp/body")" ;;
        esac
    fi
done
log "stopped"
