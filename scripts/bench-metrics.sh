#!/usr/bin/env bash
# The console with a big fleet reporting metrics every second: its CPU, its memory as a curve
# over the run, on the Metrics view at 200x50.
#
# Usage: bash scripts/bench-metrics.sh        (N=1000 hosts over AGENTS=10 real agents)
#
# The hosts are real: AGENTS `fleetdeck agent` processes on 127.0.0.1 (TLS, pinned
# certificates, heartbeat every 1 s), and hosts.toml names N hosts spread over them (host i
# connects to agent i mod AGENTS: each host is its own WebSocket link and sends its own
# heartbeats, the agent's 1024-connection cap allowing). So the console receives N heartbeats a
# second, each turned into a sample of that host, and draws what it shows.
#
# Steps: start the agents; start `fleetdeck --home H tui` in a tmux server of our own (200x50);
# wait until every host is connected; press 3 (Metrics view); then every SAMPLE_SECS for
# SECS: the console's CPU (utime+stime from /proc/PID/stat) over the interval, its RSS
# (/proc/PID/status), heartbeats seen (the status bar's count if shown), load average.
#
# Knobs (environment): N=1000 AGENTS=10 SECS=600 SAMPLE_SECS=30 WORK=/tmp/fleetdeck-bench-metrics
#   FLEETDECK_BIN=path (skip `cargo build --release --locked` and use this binary)
# Report: $WORK/results.md (printed at the end); raw samples in $WORK/curve.tsv.
# Every wait is bounded; only processes this script started are ended, by pid (and our own tmux
# server by its socket name).
set -uo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)

N=${N:-1000}
AGENTS=${AGENTS:-10}
SECS=${SECS:-600}
SAMPLE_SECS=${SAMPLE_SECS:-30}
WORK=${WORK:-/tmp/fleetdeck-bench-metrics}
FLEETDECK_BIN=${FLEETDECK_BIN:-}
COLS=200
ROWS=50

[[ $N =~ ^[1-9][0-9]*$ && $N -le 20000 ]] || { echo "bench-metrics: N must be 1..20000, got '$N'" >&2; exit 2; }
[[ $AGENTS =~ ^[1-9][0-9]*$ && $AGENTS -le 100 ]] || { echo "bench-metrics: AGENTS must be 1..100" >&2; exit 2; }
(((N + AGENTS - 1) / AGENTS <= 1000)) || { echo "bench-metrics: more than 1000 hosts per agent; raise AGENTS" >&2; exit 2; }
[[ $SECS =~ ^[1-9][0-9]*$ && $SAMPLE_SECS =~ ^[1-9][0-9]*$ ]] || { echo "bench-metrics: SECS and SAMPLE_SECS are seconds" >&2; exit 2; }

log() { printf '[bench-metrics %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in tmux awk; do command -v "$tool" >/dev/null 2>&1 || die "$tool is needed"; done

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
rm -rf "$WORK/home" "$WORK/agents" "$WORK/screens" "$WORK/bin"
mkdir -p "$WORK/home/config" "$WORK/agents" "$WORK/screens" "$WORK/bin"
FLEET_DIR=$WORK/fleet
# shellcheck source=scripts/lib-fleet.sh
source "$REPO/scripts/lib-fleet.sh"

TMUX_SOCK=fdmetrics-$$
SESSION=fdmetrics-$$
CONSOLE_PID=""
AGENT_PIDS=()
cleanup() {
  tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
  if [[ -n $CONSOLE_PID ]] && kill -0 "$CONSOLE_PID" 2>/dev/null; then
    kill "$CONSOLE_PID" 2>/dev/null
  fi
  local pid
  for pid in "${AGENT_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${AGENT_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  done
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

[[ -z $FLEETDECK_BIN ]] && log "building fleetdeck (cargo build --release --locked)"
fleet_fleetdeck_copy "$WORK" || die "no fleetdeck binary to benchmark"

# ---------------------------------------------------------------------------------------------
# Agents: init, heartbeat 1 s, run on a random loopback port; their url from the ready file.
URLS=() PINS=() TOKENS=()
for a in $(seq 1 "$AGENTS"); do
  d=$WORK/agents/a$a
  "$FD" agent init --dir "$d" --name "a$a" --allow /bin/sh >"$d.init" 2>&1 || die "agent init a$a: $(tail -3 "$d.init")"
  sed -i 's/^heartbeat = "5s"/heartbeat = "1s"/' "$d/agent.toml"
  pin=$(grep -o 'fingerprint = "sha256:[0-9a-f]*"' "$d.init" | head -1 | cut -d'"' -f2)
  [[ -n $pin ]] || die "no fingerprint in the output of agent init a$a"
  "$FD" agent run --dir "$d" --listen 127.0.0.1:0 --ready-file "$d/ready" </dev/null >"$d/agent.log" 2>&1 &
  AGENT_PIDS+=($!)
  for _ in $(seq 100); do [[ -s $d/ready ]] && break; sleep 0.1; done
  [[ -s $d/ready ]] || die "agent a$a did not start: $(tail -3 "$d/agent.log")"
  URLS+=("$(tr -d '[:space:]' <"$d/ready")") PINS+=("$pin") TOKENS+=("$d/exec.token")
done
log "$AGENTS agents up"

H=$WORK/home
{
  for i in $(seq 1 "$N"); do
    a=$(((i - 1) % AGENTS))
    printf '[[hosts]]\nname = "m%05d"\ntransport = "agent"\nenv = "bench"\nagent = { url = "%s", token_file = "%s", fingerprint = "%s" }\n\n' \
      "$i" "${URLS[$a]}" "${TOKENS[$a]}" "${PINS[$a]}"
  done
} >"$H/config/hosts.toml"

# ---------------------------------------------------------------------------------------------
tm() { tmux -L "$TMUX_SOCK" "$@"; }
screen() { tm capture-pane -p -t "$SESSION:0" 2>/dev/null; }
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { sed 's/.*) //' "/proc/$CONSOLE_PID/stat" | awk '{print $12 + $13}'; }
status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$CONSOLE_PID/status"; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k / 1024}'; }

tm new-session -d -s "$SESSION" -x "$COLS" -y "$ROWS" \
  "env -u TMUX LANG=C.UTF-8 LC_ALL=C.UTF-8 '$FD' --home '$H' tui" || die "tmux"
for _ in $(seq 100); do
  CONSOLE_PID=$(pgrep -P "$(tm display -p -t "$SESSION:0" '#{pane_pid}')" -f "fleetdeck" | head -1)
  [[ -z $CONSOLE_PID ]] && CONSOLE_PID=$(tm display -p -t "$SESSION:0" '#{pane_pid}')
  [[ -r /proc/$CONSOLE_PID/stat ]] && grep -q fleetdeck "/proc/$CONSOLE_PID/cmdline" 2>/dev/null && break
  sleep 0.1
done
grep -q fleetdeck "/proc/$CONSOLE_PID/cmdline" 2>/dev/null || die "the console did not start"
log "console pid $CONSOLE_PID; waiting for $N hosts to connect"
for _ in $(seq 1200); do
  screen | grep -q "$N pooled\|$N/$N linked\|$N open" && break
  kill -0 "$CONSOLE_PID" 2>/dev/null || die "the console exited"
  sleep 0.1
done
screen >"$WORK/screens/connected.txt"
tm send-keys -t "$SESSION:0" 3
sleep 2
screen >"$WORK/screens/metrics.txt"

printf 't_s\tcpu_pct_interval\trss_mib\tload1\n' >"$WORK/curve.tsv"
T0=$(date +%s.%N)
C0=$(cpu_ticks)
c_prev=$C0 t_prev=$T0
elapsed=0
while ((elapsed < SECS)); do
  sleep "$SAMPLE_SECS"
  kill -0 "$CONSOLE_PID" 2>/dev/null || die "the console exited during the run"
  c=$(cpu_ticks) t=$(date +%s.%N)
  pct=$(awk -v a="$c_prev" -v b="$c" -v s0="$t_prev" -v s1="$t" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", 100 * (b - a) / hz / (s1 - s0)}')
  elapsed=$(awk -v a="$T0" -v b="$t" 'BEGIN{printf "%d", b - a}')
  printf '%s\t%s\t%s\t%s\n' "$elapsed" "$pct" "$(mib "$(status_kb VmRSS)")" "$(cut -d' ' -f1 /proc/loadavg)" >>"$WORK/curve.tsv"
  log "t=${elapsed}s cpu ${pct}% rss $(mib "$(status_kb VmRSS)") MiB"
  c_prev=$c t_prev=$t
done
C1=$(cpu_ticks) T1=$(date +%s.%N)
TOTAL=$(awk -v a="$C0" -v b="$C1" -v s0="$T0" -v s1="$T1" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", 100 * (b - a) / hz / (s1 - s0)}')
screen >"$WORK/screens/end.txt"

{
  echo "# bench-metrics: N=$N hosts over AGENTS=$AGENTS agents, heartbeat 1 s, ${SECS}s, fleetdeck $FD_NOTE"
  echo
  echo "Console CPU over the whole run: **${TOTAL}%** of one core; VmHWM $(mib "$(status_kb VmHWM)") MiB."
  echo
  echo "| t (s) | CPU over the interval (% of one core) | RSS (MiB) | load1 |"
  echo "|---:|---:|---:|---:|"
  tail -n +2 "$WORK/curve.tsv" | awk -F'\t' '{printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4}'
} >"$WORK/results.md"
cat "$WORK/results.md"
