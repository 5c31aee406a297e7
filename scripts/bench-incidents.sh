#!/usr/bin/env bash
# Incidents in the console: how long an alert takes from firing to being on screen, for
# ALERTS Alertmanager alerts posted at once and AGENT_ALERTS agent alerts raised at once, and
# the console's CPU and memory while idle with all of them open (issue 14's benchmark).
#
# Usage: bash scripts/bench-incidents.sh     (ALERTS=2000 Alertmanager alerts, AGENT_ALERTS=200
#                                             agent hosts, one real agent each)
#
# Everything is real and on 127.0.0.1: Debian's prometheus-alertmanager (its own config and
# storage under $WORK, clustering off), AGENTS `fleetdeck agent` processes (TLS, pinned
# certificates), and the console, `fleetdeck --home H tui`, in a tmux server of our own
# (200x50), with `[alertmanager] url` on that Alertmanager and `poll_interval = POLL_SECS`.
# hosts.toml names AGENT_ALERTS hosts spread over the agents (host i connects to agent
# i mod AGENTS; by default one agent per host). Each agent has one log watcher (the cheapest
# real watcher: it tails a file of its own every WATCH_MS, severity critical, `quiet` long
# enough that it never resolves during the run); writing a matching line into that file raises
# the alert, which reaches the console on each of the agent's links: one incident per host.
#
# Steps:
#  1. start Alertmanager, the agents and the console; wait until every host is connected;
#  2. idle baseline: the console's CPU and RSS over IDLE_SECS on the Fleet view, no incidents;
#  3. press 4 (Incidents view); POST ALERTS alerts to /api/v2/alerts in one request (labels:
#     a quarter `instance=HOST:9100`, a quarter `host=HOST`, a quarter an instance that is not in
#     the inventory, a quarter no host label; severity warning, every fifth info; summary
#     "ALERTNAME on HOST" (8 alert names), so the view's title groups vary in size; endsAt 6 h
#     away so none ends during the run); poll `tmux capture-pane` every 50 ms until the status
#     bar counts all of them (`N warn M info`); split with the book (incidents.jsonl, whose
#     `opened` events carry the time they were written, in ms): post → first written (the poll
#     wait and the fetch), first → last written (recording), last written → on screen;
#  4. write the matching line into every agent's file at once; the same until the status bar
#     shows `AGENT_ALERTS crit`; split with the agents' journals (the time each agent raised
#     its alert) and the book;
#  5. idle with ALERTS + AGENT_ALERTS open incidents and nothing changing (the agents still send
#     heartbeats every 5 s, the console still polls Alertmanager): CPU and RSS over IDLE_SECS
#     on the Incidents view, then over IDLE_SECS on the Fleet view; lines the book gained
#     meanwhile (should be none).
#
# Knobs (environment): ALERTS=2000 AGENT_ALERTS=200 AGENTS=$AGENT_ALERTS IDLE_SECS=60
#   POLL_SECS=1 (`[alertmanager] poll_interval`, whole seconds; fleetdeck's floor is 1s, its
#   default 15s) WEBHOOK=0 (1: Alertmanager's receiver POSTs to fleetdeck's `[alertmanager]
#   listen`, group_wait 0s, and each notification makes the console poll at once) WATCH_MS=250 (the agents' watcher interval) SHOW_SECS=180 (longest wait for the
#   screen) WORK=/tmp/fleetdeck-bench-incidents
#   FLEETDECK_BIN=path (skip `cargo build --release --locked` and use this binary)
# Report: $WORK/results.md (printed at the end); raw figures in $WORK/phases.tsv and
# $WORK/idle.tsv, screens in $WORK/screens/.
# Every wait is bounded; only processes this script started are ended, by pid (and our own tmux
# server by its socket name); network only on 127.0.0.1.
set -uo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.." || exit 1
REPO=$(pwd)

ALERTS=${ALERTS:-2000}
AGENT_ALERTS=${AGENT_ALERTS:-200}
AGENTS=${AGENTS:-$AGENT_ALERTS}
IDLE_SECS=${IDLE_SECS:-60}
POLL_SECS=${POLL_SECS:-1}
WEBHOOK=${WEBHOOK:-0}
WATCH_MS=${WATCH_MS:-250}
SHOW_SECS=${SHOW_SECS:-180}
WORK=${WORK:-/tmp/fleetdeck-bench-incidents}
FLEETDECK_BIN=${FLEETDECK_BIN:-}
AM_BIN=/usr/bin/prometheus-alertmanager
COLS=200
ROWS=50

bad() { echo "bench-incidents: $*" >&2; exit 2; }
[[ $ALERTS =~ ^[1-9][0-9]*$ && $ALERTS -le 20000 ]] || bad "ALERTS must be 1..20000, got '$ALERTS'"
[[ $AGENT_ALERTS =~ ^[1-9][0-9]*$ && $AGENT_ALERTS -le 2000 ]] || bad "AGENT_ALERTS must be 1..2000, got '$AGENT_ALERTS'"
[[ $AGENTS =~ ^[1-9][0-9]*$ && $AGENTS -le 500 ]] || bad "AGENTS must be 1..500, got '$AGENTS'"
((AGENTS <= AGENT_ALERTS)) || bad "AGENTS ($AGENTS) must not exceed AGENT_ALERTS ($AGENT_ALERTS): an agent without a host raises nothing"
(((AGENT_ALERTS + AGENTS - 1) / AGENTS <= 1000)) || bad "more than 1000 hosts per agent; raise AGENTS"
[[ $IDLE_SECS =~ ^[1-9][0-9]*$ && $IDLE_SECS -le 3600 ]] || bad "IDLE_SECS must be 1..3600 seconds, got '$IDLE_SECS'"
[[ $POLL_SECS =~ ^[1-9][0-9]*$ && $POLL_SECS -le 300 ]] || bad "POLL_SECS must be 1..300 whole seconds (fleetdeck refuses less than 1s), got '$POLL_SECS'"
[[ $WEBHOOK == 0 || $WEBHOOK == 1 ]] || bad "WEBHOOK must be 0 or 1, got '$WEBHOOK'"
[[ $WATCH_MS =~ ^[1-9][0-9]*$ && $WATCH_MS -ge 100 && $WATCH_MS -le 60000 ]] || bad "WATCH_MS must be 100..60000 (the agents' floor is 100ms), got '$WATCH_MS'"
[[ $SHOW_SECS =~ ^[1-9][0-9]*$ && $SHOW_SECS -le 1800 ]] || bad "SHOW_SECS must be 1..1800, got '$SHOW_SECS'"

log() { printf '[bench-incidents %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in tmux awk curl jq date; do command -v "$tool" >/dev/null 2>&1 || die "$tool is needed"; done
[[ -x $AM_BIN ]] || die "$AM_BIN not found: install prometheus-alertmanager"
[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or later is needed (EPOCHREALTIME)"

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
rm -rf "${WORK:?}/home" "${WORK:?}/agents" "${WORK:?}/screens" "${WORK:?}/bin" "${WORK:?}/am"
mkdir -p "$WORK/home/config" "$WORK/agents" "$WORK/screens" "$WORK/bin" "$WORK/am/data"
FLEET_DIR=$WORK/fleet
# shellcheck source=scripts/lib-fleet.sh
source "$REPO/scripts/lib-fleet.sh"

TMUX_SOCK=fdincidents-$$
SESSION=fdincidents-$$
CONSOLE_PID=""
AM_PID=""
AGENT_PIDS=()
stop_pid() { # PID: TERM, up to 5 s, then KILL
  local pid=$1
  [[ -n $pid ]] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
}
cleanup() {
  tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
  if [[ -n $CONSOLE_PID ]] && kill -0 "$CONSOLE_PID" 2>/dev/null; then
    kill "$CONSOLE_PID" 2>/dev/null
  fi
  local pid
  for pid in "${AGENT_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${AGENT_PIDS[@]}"; do stop_pid "$pid"; done
  stop_pid "$AM_PID"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

[[ -z $FLEETDECK_BIN ]] && log "building fleetdeck (cargo build --release --locked)"
fleet_fleetdeck_copy "$WORK" || die "no fleetdeck binary to benchmark"

now() { printf '%s' "$EPOCHREALTIME"; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%d", (b - a) * 1000 + 0.5}'; }
# RFC 3339 (as the book and the journals write it) to seconds since the epoch, with fractions.
epoch_of() { date -u -d "$1" +%s.%N; }
http() { curl -sS --noproxy '*' "$@"; }

# ---------------------------------------------------------------------------------------------
# Alertmanager on a free loopback port: its config (one receiver that sends nothing) and
# storage under $WORK/am. A port taken between the check and the start makes it exit: retry.
HOOK_PORT=""
if [[ $WEBHOOK == 1 ]]; then
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    if ! fleet_port_in_use "$p"; then HOOK_PORT=$p; break; fi
  done
  [[ -n $HOOK_PORT ]] || die "no free loopback port for fleetdeck's webhook"
  # One group for all alerts: one notification per change, at once.
  printf 'route:\n  receiver: fleetdeck\n  group_wait: 0s\n  group_interval: 1s\nreceivers:\n  - name: fleetdeck\n    webhook_configs:\n      - url: http://127.0.0.1:%s/alertmanager\n        send_resolved: true\n' \
    "$HOOK_PORT" >"$WORK/am/alertmanager.yml"
else
  printf 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n' >"$WORK/am/alertmanager.yml"
fi
AM_URL=""
for _ in $(seq 5); do
  port=""
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    if ! fleet_port_in_use "$p"; then port=$p; break; fi
  done
  [[ -n $port ]] || die "no free loopback port for Alertmanager"
  "$AM_BIN" --config.file="$WORK/am/alertmanager.yml" --storage.path="$WORK/am/data" \
    --web.listen-address="127.0.0.1:$port" --cluster.listen-address= --log.level=warn \
    </dev/null >"$WORK/am/alertmanager.log" 2>&1 &
  AM_PID=$!
  for _ in $(seq 200); do
    if http -f -m 1 -o /dev/null "http://127.0.0.1:$port/-/ready" 2>/dev/null; then
      AM_URL=http://127.0.0.1:$port
      break
    fi
    kill -0 "$AM_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n $AM_URL ]] && break
  stop_pid "$AM_PID"
  AM_PID=""
done
[[ -n $AM_URL ]] || die "Alertmanager did not start: $(tail -3 "$WORK/am/alertmanager.log")"
log "Alertmanager $("$AM_BIN" --version 2>&1 | head -1 | awk '{print $3}') at $AM_URL (pid $AM_PID)"

# ---------------------------------------------------------------------------------------------
# Agents: init, one log watcher on a file of their own, run on a random loopback port. All are
# started, then waited for (each one's ready file), 60 s at most in all.
W=${#AGENT_ALERTS}
((W < 3)) && W=3
host_name() { printf "node%0${W}d" "$1"; }
for a in $(seq 1 "$AGENTS"); do
  d=$WORK/agents/a$a
  "$FD" agent init --dir "$d" --name "a$a" --allow /bin/sh >"$d.init" 2>&1 || die "agent init a$a: $(tail -3 "$d.init")"
  : >"$d/app.log"
  cat >>"$d/agent.toml" <<EOF

# bench-incidents: the alert this agent raises, when the script writes the pattern.
[[watchers]]
name = "bench-app"
kind = "log"
path = "$d/app.log"
pattern = "FDBENCH-ERROR"
interval = "${WATCH_MS}ms"
severity = "critical"
quiet = "24h"
EOF
  "$FD" agent run --dir "$d" --listen 127.0.0.1:0 --ready-file "$d/ready" </dev/null >"$d/agent.log" 2>&1 &
  AGENT_PIDS+=($!)
done
URLS=() PINS=() TOKENS=()
deadline=$(($(date +%s) + 60))
for a in $(seq 1 "$AGENTS"); do
  d=$WORK/agents/a$a
  while [[ ! -s $d/ready ]] && (($(date +%s) < deadline)); do
    kill -0 "${AGENT_PIDS[$((a - 1))]}" 2>/dev/null || die "agent a$a exited: $(tail -3 "$d/agent.log")"
    sleep 0.1
  done
  [[ -s $d/ready ]] || die "agent a$a did not start within 60 s: $(tail -3 "$d/agent.log")"
  pin=$(grep -o 'fingerprint = "sha256:[0-9a-f]*"' "$d.init" | head -1 | cut -d'"' -f2)
  [[ -n $pin ]] || die "no fingerprint in the output of agent init a$a"
  URLS+=("$(tr -d '[:space:]' <"$d/ready")") PINS+=("$pin") TOKENS+=("$d/exec.token")
done
log "$AGENTS agents up"

H=$WORK/home
{
  for i in $(seq 1 "$AGENT_ALERTS"); do
    a=$(((i - 1) % AGENTS))
    printf '[[hosts]]\nname = "%s"\ntransport = "agent"\nenv = "bench"\nagent = { url = "%s", token_file = "%s", fingerprint = "%s" }\n\n' \
      "$(host_name "$i")" "${URLS[$a]}" "${TOKENS[$a]}" "${PINS[$a]}"
  done
} >"$H/config/hosts.toml"
printf '[alertmanager]\nurl = "%s"\npoll_interval = "%ss"\n' "$AM_URL" "$POLL_SECS" >"$H/config/config.toml"
[[ -n $HOOK_PORT ]] && printf 'listen = "127.0.0.1:%s"\n' "$HOOK_PORT" >>"$H/config/config.toml"
"$FD" --home "$H" check >"$WORK/check.txt" 2>&1 || die "fleetdeck check refuses the generated config: $(tail -5 "$WORK/check.txt")"
BOOK=$H/data/incidents.jsonl

# ---------------------------------------------------------------------------------------------
tm() { tmux -L "$TMUX_SOCK" "$@"; }
screen() { tm capture-pane -p -t "$SESSION:0" 2>/dev/null; }
# The status bar: the line that counts pooled connections.
status_line() { screen | grep ' pooled' | tail -1; }
# "C W I" from a status line: its `N crit`, `N warn`, `N info` (0 when absent).
counts_of() {
  awk '{ c = w = i = 0
         for (k = 2; k <= NF; k++) {
           if ($k == "crit") c = $(k - 1); else if ($k == "warn") w = $(k - 1); else if ($k == "info") i = $(k - 1)
         }
         print c + 0, w + 0, i + 0 }' <<<"$1"
}
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { sed 's/.*) //' "/proc/${1:-$CONSOLE_PID}/stat" | awk '{print $12 + $13}'; }
pct_of() { awk -v a="$1" -v b="$2" -v s0="$3" -v s1="$4" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", 100 * (b - a) / hz / (s1 - s0)}'; }
status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$CONSOLE_PID/status"; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k / 1024}'; }
book_lines() { if [[ -f $BOOK ]]; then wc -l <"$BOOK"; else echo 0; fi; }
load1() { cut -d' ' -f1 /proc/loadavg; }

tm new-session -d -s "$SESSION" -x "$COLS" -y "$ROWS" \
  "env -u TMUX LANG=C.UTF-8 LC_ALL=C.UTF-8 '$FD' --home '$H' tui" || die "tmux"
for _ in $(seq 100); do
  CONSOLE_PID=$(pgrep -P "$(tm display -p -t "$SESSION:0" '#{pane_pid}')" -f "fleetdeck" | head -1)
  [[ -z $CONSOLE_PID ]] && CONSOLE_PID=$(tm display -p -t "$SESSION:0" '#{pane_pid}')
  [[ -r /proc/$CONSOLE_PID/stat ]] && grep -q fleetdeck "/proc/$CONSOLE_PID/cmdline" 2>/dev/null && break
  sleep 0.1
done
grep -q fleetdeck "/proc/$CONSOLE_PID/cmdline" 2>/dev/null || die "the console did not start"
log "console pid $CONSOLE_PID; waiting for $AGENT_ALERTS hosts to connect"
for _ in $(seq 1200); do
  screen | grep -q " $AGENT_ALERTS pooled" && break
  kill -0 "$CONSOLE_PID" 2>/dev/null || die "the console exited"
  sleep 0.1
done
screen >"$WORK/screens/connected.txt"
grep -q " $AGENT_ALERTS pooled" "$WORK/screens/connected.txt" || die "not every host connected in 120 s (screens/connected.txt)"
read -r c w i < <(counts_of "$(status_line)")
((c + w + i == 0)) || die "the console shows incidents before the benchmark posted any ($c crit $w warn $i info)"

# ---------------------------------------------------------------------------------------------
# Idle: the console's CPU over IDLE_SECS (after 5 s to settle), sampled every 10 s.
printf 'phase\tt_s\tcpu_pct_interval\trss_mib\tload1\n' >"$WORK/idle.tsv"
IDLE_ROWS=()
idle() { # LABEL
  local label=$1 t0 c0 tp cp t c pct lines0 elapsed=0 step load0 am0
  sleep 5
  kill -0 "$CONSOLE_PID" 2>/dev/null || die "the console exited"
  lines0=$(book_lines) load0=$(load1)
  t0=$(now) c0=$(cpu_ticks) tp=$t0 cp=$c0 am0=$(cpu_ticks "$AM_PID")
  while ((elapsed < IDLE_SECS)); do
    step=$((IDLE_SECS - elapsed < 10 ? IDLE_SECS - elapsed : 10))
    sleep "$step"
    kill -0 "$CONSOLE_PID" 2>/dev/null || die "the console exited while idle ($label)"
    c=$(cpu_ticks) t=$(now)
    pct=$(pct_of "$cp" "$c" "$tp" "$t")
    elapsed=$((elapsed + step))
    printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$elapsed" "$pct" "$(mib "$(status_kb VmRSS)")" "$(load1)" >>"$WORK/idle.tsv"
    cp=$c tp=$t
  done
  pct=$(pct_of "$c0" "$c" "$t0" "$t")
  IDLE_ROWS+=("| $label | $pct | $(mib "$(status_kb VmRSS)") | $(pct_of "$am0" "$(cpu_ticks "$AM_PID")" "$t0" "$(now)") | $(($(book_lines) - lines0)) | $load0 → $(load1) |")
  log "idle, $label: cpu $pct% of one core, rss $(mib "$(status_kb VmRSS)") MiB"
}

# Waits (every 50 ms, SHOW_SECS at most) until the status bar counts WANT_C crit and
# WANT_WI warn+info; sets FIRST_SHOWN (the first change from the counts at the start) and
# SHOWN (all of them), epoch seconds, empty when not reached.
FIRST_SHOWN="" SHOWN=""
wait_shown() { # WANT_C WANT_WI START_C START_WI
  local want_c=$1 want_wi=$2 start_c=$3 start_wi=$4 c w i t deadline n=0
  FIRST_SHOWN="" SHOWN=""
  deadline=$(awk -v s="$(now)" -v d="$SHOW_SECS" 'BEGIN{printf "%d", s + d}')
  while ((n < SHOW_SECS * 20)); do
    n=$((n + 1))
    read -r c w i < <(counts_of "$(status_line)")
    t=$(now)
    if [[ -z $FIRST_SHOWN ]] && ((c != start_c || w + i != start_wi)); then FIRST_SHOWN=$t; fi
    if ((c == want_c && w + i == want_wi)); then SHOWN=$t; return 0; fi
    ((${t%.*} >= deadline)) && break
    kill -0 "$CONSOLE_PID" 2>/dev/null || die "the console exited"
    sleep 0.05
  done
  return 1
}

# The first and last `opened` events of SOURCE in the book, as epoch seconds ("" "" if none).
book_span() { # SOURCE
  local first last
  read -r first last < <(jq -r --arg s "$1" 'select(.event == "opened" and .source == $s) | .ts' "$BOOK" 2>/dev/null |
    sort | sed -n '1p;$p' | tr '\n' ' ')
  if [[ -n ${first:-} ]]; then
    printf '%s %s %s\n' "$(epoch_of "$first")" "$(epoch_of "${last:-$first}")" \
      "$(jq -r --arg s "$1" 'select(.event == "opened" and .source == $s) | .id' "$BOOK" 2>/dev/null | wc -l)"
  else
    echo "- - 0"
  fi
}
ms_or_dash() { if [[ $1 == - || $2 == - || -z $1 || -z $2 ]]; then echo "-"; else ms_between "$1" "$2"; fi; }

tm send-keys -t "$SESSION:0" 1
idle "Fleet view, no incidents (baseline)"

# ---------------------------------------------------------------------------------------------
# Alertmanager: ALERTS alerts in one POST.
tm send-keys -t "$SESSION:0" 4
sleep 2
screen >"$WORK/screens/incidents-empty.txt"
STARTS=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
ENDS=$(date -u -d '+6 hours' +%Y-%m-%dT%H:%M:%S.%3NZ)
awk -v n="$ALERTS" -v nh="$AGENT_ALERTS" -v w="$W" -v s="$STARTS" -v e="$ENDS" 'BEGIN {
  split("DiskFull HighLoad MemoryPressure ServiceDown CertificateExpiry ClockSkew NodeFilesystemAlmostOutOfFiles TargetDown", names, " ")
  printf "["
  for (i = 1; i <= n; i++) {
    h = sprintf("node%0" w "d", (i - 1) % nh + 1)
    sev = (i % 5 == 0) ? "info" : "warning"
    k = i % 4
    if (k == 0) { on = h; where = sprintf("\"instance\":\"%s:9100\"", h) }
    else if (k == 1) { on = h; where = sprintf("\"host\":\"%s\"", h) }
    else if (k == 2) { on = sprintf("ghost%05d", i); where = sprintf("\"instance\":\"%s:9100\"", on) }
    else { on = "blackbox"; where = "\"job\":\"blackbox\"" }
    printf "%s{\"labels\":{\"alertname\":\"%s\",\"severity\":\"%s\",\"bench_id\":\"%d\",%s},", (i > 1 ? "," : ""), names[(i - 1) % 8 + 1], sev, i, where
    printf "\"annotations\":{\"summary\":\"%s on %s\",\"description\":\"bench alert %d\"},\"startsAt\":\"%s\",\"endsAt\":\"%s\",\"generatorURL\":\"http://127.0.0.1/bench\"}", names[(i - 1) % 8 + 1], on, i, s, e
  }
  printf "]"
}' >"$WORK/am/alerts.json"
log "posting $ALERTS alerts to Alertmanager ($(($(wc -c <"$WORK/am/alerts.json") / 1024)) KiB)"
AM_T0=$(now)
code=$(http -m 60 -o "$WORK/am/post.out" -w '%{http_code}' -H 'content-type: application/json' \
  --data-binary @"$WORK/am/alerts.json" "$AM_URL/api/v2/alerts") || die "POST /api/v2/alerts failed"
AM_T1=$(now)
[[ $code == 200 ]] || die "POST /api/v2/alerts: HTTP $code: $(head -c 300 "$WORK/am/post.out")"
AM_LOAD=$(load1)
held=$(http -m 30 "$AM_URL/api/v2/alerts?active=true&silenced=false&inhibited=false" | jq length)
[[ $held == "$ALERTS" ]] || log "warning: Alertmanager holds $held alerts, not $ALERTS"
wait_shown 0 "$ALERTS" 0 0 || log "warning: the status bar did not count $ALERTS alerts within ${SHOW_SECS}s"
AM_FIRST=$FIRST_SHOWN AM_SHOWN=$SHOWN
# What each poll fetches: one GET of every alert, timed by curl (Alertmanager's side of a poll).
AM_GET=$(http -m 30 -o "$WORK/am/get.json" -w '%{time_total} %{size_download}' "$AM_URL/api/v2/alerts")
AM_GET_MS=$(awk '{printf "%d", $1 * 1000 + 0.5}' <<<"$AM_GET")
AM_GET_KIB=$(awk '{printf "%d", $2 / 1024}' <<<"$AM_GET")
screen >"$WORK/screens/incidents-alertmanager.txt"
read -r AM_B0 AM_B1 AM_BN < <(book_span alertmanager)
log "Alertmanager: all shown $(ms_or_dash "$AM_T1" "${AM_SHOWN:--}") ms after the POST returned"

# ---------------------------------------------------------------------------------------------
# Agents: the matching line written into every agent's file, as fast as the shell goes.
log "raising $AGENT_ALERTS agent alerts ($AGENTS agents)"
AG_LOAD=$(load1)
AG_T0=$(now)
for a in $(seq 1 "$AGENTS"); do
  printf '%(%H:%M:%S)T FDBENCH-ERROR bench failure on a%s\n' -1 "$a" >>"$WORK/agents/a$a/app.log"
done
AG_T1=$(now)
wait_shown "$AGENT_ALERTS" "$ALERTS" 0 "$ALERTS" || log "warning: the status bar did not count $AGENT_ALERTS crit within ${SHOW_SECS}s"
AG_FIRST=$FIRST_SHOWN AG_SHOWN=$SHOWN
screen >"$WORK/screens/incidents-all.txt"
read -r AG_B0 AG_B1 AG_BN < <(book_span agent)
# When the agents raised them: the first line of each journal.
fired=$(for a in $(seq 1 "$AGENTS"); do head -1 "$WORK/agents/a$a/journal/alerts.jsonl" 2>/dev/null | jq -r .ts; done | sort)
AG_J0=- AG_J1=- AG_JN=$(grep -c . <<<"$fired")
if ((AG_JN > 0)); then AG_J0=$(epoch_of "$(head -1 <<<"$fired")") AG_J1=$(epoch_of "$(tail -1 <<<"$fired")"); fi
log "agents: all shown $(ms_or_dash "$AG_T1" "${AG_SHOWN:--}") ms after the last line was written"

# ---------------------------------------------------------------------------------------------
idle "Incidents view, $((ALERTS + AGENT_ALERTS)) open"
screen >"$WORK/screens/incidents-idle-end.txt"
tm send-keys -t "$SESSION:0" 1
idle "Fleet view, $((ALERTS + AGENT_ALERTS)) open"
screen >"$WORK/screens/fleet-idle-end.txt"
HWM=$(mib "$(status_kb VmHWM)")
OPEN=$("$FD" --home "$H" incidents --offline --json 2>/dev/null | grep -c .)

# ---------------------------------------------------------------------------------------------
{
  printf 'what\tstart\tfirst_written_ms\tlast_written_ms\tfirst_shown_ms\tall_shown_ms\n'
  printf 'alertmanager\t%s\t%s\t%s\t%s\t%s\n' "$AM_T1" "$(ms_or_dash "$AM_T1" "$AM_B0")" "$(ms_or_dash "$AM_T1" "$AM_B1")" \
    "$(ms_or_dash "$AM_T1" "${AM_FIRST:--}")" "$(ms_or_dash "$AM_T1" "${AM_SHOWN:--}")"
  printf 'agents\t%s\t%s\t%s\t%s\t%s\n' "$AG_T1" "$(ms_or_dash "$AG_T1" "$AG_B0")" "$(ms_or_dash "$AG_T1" "$AG_B1")" \
    "$(ms_or_dash "$AG_T1" "${AG_FIRST:--}")" "$(ms_or_dash "$AG_T1" "${AG_SHOWN:--}")"
} >"$WORK/phases.tsv"
{
  echo "# bench-incidents: ALERTS=$ALERTS Alertmanager alerts, AGENT_ALERTS=$AGENT_ALERTS agent hosts over AGENTS=$AGENTS agents, fleetdeck $FD_NOTE"
  echo
  # The commit above is this checkout's; a binary given from elsewhere may be another build.
  [[ -n $FLEETDECK_BIN ]] && echo "Binary: FLEETDECK_BIN=$FLEETDECK_BIN, modified $(date -u -r "$FLEETDECK_BIN" '+%Y-%m-%d %H:%M UTC') (its source may differ from this checkout)." && echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr);" \
    "Alertmanager $("$AM_BIN" --version 2>&1 | head -1 | awk '{print $3}'); console at ${COLS}x${ROWS} in tmux;" \
    "\`[alertmanager] poll_interval = \"${POLL_SECS}s\"\`$([[ $WEBHOOK == 1 ]] && echo ", Alertmanager's webhook to \`[alertmanager] listen\` (group_wait 0s)"); agent watcher interval ${WATCH_MS} ms, heartbeat 5 s."
  echo
  echo "## Time to the console"
  echo
  echo "Alertmanager: $ALERTS alerts in one POST (took $(ms_between "$AM_T0" "$AM_T1") ms, load1 $AM_LOAD); times from the POST's answer." \
    "One GET of all of them (what each poll reads) takes Alertmanager $AM_GET_MS ms for $AM_GET_KIB KiB."
  echo "Agents: one line written into each agent's watched file (all $AGENTS in $(ms_between "$AG_T0" "$AG_T1") ms, load1 $AG_LOAD); times from the last write."
  echo
  echo "| alerts | raised (agents' journals) | first in the book | last in the book | first on screen | all on screen (status bar) |"
  echo "|---|---:|---:|---:|---:|---:|"
  echo "| $ALERTS Alertmanager | - | $(ms_or_dash "$AM_T1" "$AM_B0") ms | $(ms_or_dash "$AM_T1" "$AM_B1") ms | $(ms_or_dash "$AM_T1" "${AM_FIRST:--}") ms | **$(ms_or_dash "$AM_T1" "${AM_SHOWN:--}") ms** |"
  echo "| $AGENT_ALERTS agent | $(ms_or_dash "$AG_T1" "$AG_J0")..$(ms_or_dash "$AG_T1" "$AG_J1") ms | $(ms_or_dash "$AG_T1" "$AG_B0") ms | $(ms_or_dash "$AG_T1" "$AG_B1") ms | $(ms_or_dash "$AG_T1" "${AG_FIRST:--}") ms | **$(ms_or_dash "$AG_T1" "${AG_SHOWN:--}") ms** |"
  echo
  echo "Split (Alertmanager): poll wait and fetch (POST answered → first written) $(ms_or_dash "$AM_T1" "$AM_B0") ms;" \
    "recording $AM_BN incidents (first → last written) $(ms_or_dash "$AM_B0" "$AM_B1") ms;" \
    "book → all on screen $(ms_or_dash "$AM_B1" "${AM_SHOWN:--}") ms. The poll wait alone is between 0 and ${POLL_SECS} s, by chance."
  echo
  echo "Split (agents): raising ($AG_JN journals, last write → last raised) $(ms_or_dash "$AG_T1" "$AG_J1") ms;" \
    "raised → in the book (first raised → first written, last raised → last written) $(ms_or_dash "$AG_J0" "$AG_B0") / $(ms_or_dash "$AG_J1" "$AG_B1") ms;" \
    "recording $AG_BN incidents $(ms_or_dash "$AG_B0" "$AG_B1") ms; book → all on screen $(ms_or_dash "$AG_B1" "${AG_SHOWN:--}") ms."
  echo
  echo "## Idle"
  echo
  echo "Nothing changes (Alertmanager still polled every ${POLL_SECS} s, $AGENT_ALERTS hosts still send heartbeats every 5 s);" \
    "${IDLE_SECS} s each, after 5 s to settle. \`fleetdeck incidents --offline\` lists $OPEN open incidents at the end; VmHWM $HWM MiB."
  echo
  echo "| view | console CPU (% of one core) | console RSS at the end (MiB) | Alertmanager CPU (%) | book lines written | load1 (start → end) |"
  echo "|---|---:|---:|---:|---:|---|"
  printf '%s\n' "${IDLE_ROWS[@]}"
  echo
  echo "Raw: phases.tsv, idle.tsv (every 10 s), screens/."
} >"$WORK/results.md"
cat "$WORK/results.md"
