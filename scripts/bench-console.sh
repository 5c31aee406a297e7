#!/usr/bin/env bash
# The console (`fleetdeck tui`) as a process: idle CPU, memory, memory while every host streams,
# and the same command run twice from one console on a loopback fleet (the second run reuses
# the console's pooled connections where fleetdeck has them).
#
# Usage: bash scripts/bench-console.sh            (N=500 hosts; needs tmux, openssh-server)
#
# Steps, all in one console started in a tmux server of our own (`tmux -L fdbench-PID`, 200x50):
#   1. idle: CPU (utime+stime from /proc/PID/stat) over IDLE_SECS, RSS (/proc/PID/status)
#   2. `:target all`, `:run true`, enter (confirm) -> run 1; then again -> run 2 (RUNS in all).
#      Each run's duration is finished - started of its record in history.jsonl (the engine's
#      own clock); also timed: from the confirming key to the record appearing, and to the
#      console's screen showing the run's end message (polled, bounded).
#   3. idle again over IDLE_SECS, now with the connections of the runs held (if pooled)
#   4. `:run seq ...` printing STREAM_LINES lines per host on every host at once (fanout N),
#      STREAM_RUNS times: RSS sampled every 0.5 s while they stream, peak (VmHWM), RSS after
#      each run, and the console's CPU
#   5. for comparison, the one-shot `fleetdeck run` of the same `true` on the same fleet.
#
# The fleet is scripts/lib-fleet.sh's (as in bench-fanout.sh): one private sshd on 127.0.0.1
# (KexAlgorithms curve25519-sha256, MaxStartups 1000, MaxSessions 64), aliases h001..hN in a
# generated ssh_config with strict host key checking, given to `fleetdeck tui --ssh-config`.
# Each alias has its own HostKeyAlias, so each is its own connection (fleetdeck pools one
# connection per user, host, port and host-key alias): 500 aliases are 500 handshakes, as for
# a real fleet. (Hosts of an inventory that all name 127.0.0.1:PORT with no alias would share
# one connection and say nothing about a fleet.)
#
# Knobs (environment): N=500 RUNS=2 IDLE_SECS=30 STREAM_LINES=20000 STREAM_RUNS=2 OUTPUT_CAP=256KiB
#   FANOUT=N RUN_TIMEOUT=180 WORK=/tmp/fleetdeck-bench-console
#   FLEETDECK_BIN=path (skip `cargo build --release --locked` and use this binary)
# Report: $WORK/results.md (printed at the end); raw samples in $WORK/*.tsv.
# Every wait is bounded; only processes this script started are ended, by pid (and our own
# tmux server by its socket name).
set -uo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)

N=${N:-500}
RUNS=${RUNS:-2}
IDLE_SECS=${IDLE_SECS:-30}
STREAM_LINES=${STREAM_LINES:-20000}
STREAM_RUNS=${STREAM_RUNS:-2}
OUTPUT_CAP=${OUTPUT_CAP:-256KiB}
FANOUT=${FANOUT:-$N}
RUN_TIMEOUT=${RUN_TIMEOUT:-180}
WORK=${WORK:-/tmp/fleetdeck-bench-console}
FLEETDECK_BIN=${FLEETDECK_BIN:-}
COLS=200
ROWS=50

[[ $N =~ ^[1-9][0-9]*$ && $N -le 9999 ]] || { echo "bench-console: N must be 1..9999, got '$N'" >&2; exit 2; }
((RUNS >= 2)) || { echo "bench-console: RUNS must be at least 2" >&2; exit 2; }

log() { printf '[bench-console %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in tmux ssh-keygen /usr/sbin/sshd date awk; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is needed (apt-get install tmux openssh-server openssh-client)"
done

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
rm -rf "$WORK/home" "$WORK/screens" "$WORK/bin"
mkdir -p "$WORK/home/config" "$WORK/home/state" "$WORK/screens" "$WORK/bin"
FLEET_DIR=$WORK/fleet
# shellcheck source=scripts/lib-fleet.sh
source "$REPO/scripts/lib-fleet.sh"

# ---------------------------------------------------------------------------------------------
# Cleanup: our tmux server (by its socket), the console and sshd (by pid).
TMUX_SOCK=fdbench-$$
SESSION=fdbench-$$
CONSOLE_PID=""
cleanup() {
  if tmux -L "$TMUX_SOCK" has-session -t "$SESSION" 2>/dev/null; then
    tmux -L "$TMUX_SOCK" kill-session -t "$SESSION" 2>/dev/null
  fi
  tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
  if [[ -n $CONSOLE_PID ]] && kill -0 "$CONSOLE_PID" 2>/dev/null; then
    kill "$CONSOLE_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$CONSOLE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$CONSOLE_PID" 2>/dev/null && kill -9 "$CONSOLE_PID" 2>/dev/null
  fi
  fleet_stop_sshd
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# fleetdeck.
[[ -z $FLEETDECK_BIN ]] && log "building fleetdeck (cargo build --release --locked)"
fleet_fleetdeck_copy "$WORK" || die "no fleetdeck binary to benchmark"
if "$FD" tui --help 2>/dev/null | grep -q -- '--ssh-config'; then HAS_SSH_CONFIG=1; else HAS_SSH_CONFIG=0; fi

# ---------------------------------------------------------------------------------------------
# The fleet and the console's home.
fleet_setup "$N" || die "fleet setup failed"
fleet_start_sshd curve25519 ERROR "$WORK/sshd.log" || die "sshd did not start"
H=$WORK/home
NODESET=$(fleet_nodeset "$N")
cat >"$H/config/config.toml" <<EOF
[run]
fanout = $FANOUT
output_cap_per_host = "$OUTPUT_CAP"
EOF
((HAS_SSH_CONFIG)) || die "this fleetdeck has no \`tui --ssh-config\`: the console cannot be pointed at the fleet's ssh_config"
CONSOLE_ENV=(env -u SSH_AUTH_SOCK -u TMUX LANG=C.UTF-8 LC_ALL=C.UTF-8)
CONSOLE_ARGS=(--home "$H" tui --ssh-config "$FLEET_CFG")
printf '[[hosts]]\nname = "%s"\nenv = "bench"\n' "$NODESET" >"$H/config/hosts.toml"
HISTORY=$H/data/history.jsonl

# ---------------------------------------------------------------------------------------------
# tmux and /proc helpers.
tm() { tmux -L "$TMUX_SOCK" "$@"; }
screen() { tm capture-pane -p -t "$SESSION:0" 2>/dev/null; }
# One key at a time: ESC followed at once by another key reads as Alt+key.
keys() { local k; for k in "$@"; do tm send-keys -t "$SESSION:0" "$k" || die "send-keys $k"; sleep 0.08; done; }
text() { tm send-keys -t "$SESSION:0" -l "$1" || die "send-keys text"; sleep 0.1; }
wait_screen() { # WHAT GREP-PATTERN [SECONDS]: bounded poll of the screen
  local what=$1 pat=$2 secs=${3:-20} i
  for i in $(seq $((secs * 10))); do
    screen | grep -q -- "$pat" && return 0
    kill -0 "$CONSOLE_PID" 2>/dev/null || { screen >"$WORK/screens/died.txt"; die "the console exited while waiting for $what"; }
    sleep 0.1
  done
  screen >"$WORK/screens/timeout.txt"
  die "no '$what' on the screen within ${secs}s (screen: $WORK/screens/timeout.txt)"
}
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { sed 's/.*) //' "/proc/$CONSOLE_PID/stat" | awk '{print $12 + $13}'; }
status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$CONSOLE_PID/status"; }
threads() { awk '$1 == "Threads:" {print $2}' "/proc/$CONSOLE_PID/status"; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k / 1024}'; }
history_lines() { if [[ -f $HISTORY ]]; then grep -c '"started"' "$HISTORY"; else echo 0; fi; }
epoch() { date -d "$1" +%s.%N; }
rec_field() { grep -o "\"$1\":\"[^\"]*\"" <<<"$2" | head -1 | cut -d'"' -f4; }
# After the engine has recorded a run, the console may still be working through the run's
# events (a bounded queue): waits (bounded) until its screen shows the run's end message
# ("run ID STATUS: ..."); prints the time since T0 then, or "-" if it did not within SECS.
shown_done() { # ID STATUS T0 SECS
  local i
  for i in $(seq $(($4 * 20))); do
    if screen | grep -q -- "run $1 $2:"; then
      awk -v a="$3" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b - a}'
      return 0
    fi
    kill -0 "$CONSOLE_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "-"
}

idle() { # LABEL -> IDLE_CPU_<LABEL> (% of one core) and RSS
  local label=$1 t0 t1 c0 c1
  c0=$(cpu_ticks); t0=$(date +%s.%N)
  sleep "$IDLE_SECS"
  c1=$(cpu_ticks); t1=$(date +%s.%N)
  local pct
  pct=$(awk -v a="$c0" -v b="$c1" -v s0="$t0" -v s1="$t1" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", 100 * (b - a) / hz / (s1 - s0)}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$pct" "$((c1 - c0))" "$(status_kb VmRSS)" "$(threads)" "$(cut -d' ' -f1 /proc/loadavg)" >>"$WORK/idle.tsv"
  log "idle ($label): ${pct}% of one core over ${IDLE_SECS}s ($((c1 - c0)) ticks), RSS $(mib "$(status_kb VmRSS)") MiB, $(threads) threads"
}

# `:run CMD` on the fleet view's hosts, confirmed; waits (bounded) for its record.
RUN_ROWS=()
console_run() { # LABEL CMD TIMEOUT
  local label=$1 cmd=$2 secs=$3 before t0 t1 rec
  keys 1
  keys :
  text "run $cmd"
  keys Enter
  wait_screen "the confirmation" "Run on $N hosts" 10
  before=$(history_lines)
  t0=$(date +%s.%N)
  keys Enter
  local i ok=0
  for i in $(seq $((secs * 20))); do
    if (($(history_lines) > before)); then ok=1; break; fi
    kill -0 "$CONSOLE_PID" 2>/dev/null || die "the console exited during run '$label'"
    sleep 0.05
  done
  t1=$(date +%s.%N)
  ((ok)) || { screen >"$WORK/screens/$label.txt"; die "run '$label' was not recorded within ${secs}s (screen: $WORK/screens/$label.txt)"; }
  rec=$(grep '"started"' "$HISTORY" | tail -1)
  local started finished status hosts_ok engine wall shown id
  id=$(rec_field id "$rec")
  started=$(rec_field started "$rec")
  finished=$(rec_field finished "$rec")
  status=$(rec_field status "$rec")
  hosts_ok=$(grep -o '"state":"ok"' <<<"$rec" | grep -c .)
  engine=$(awk -v a="$(epoch "$started")" -v b="$(epoch "$finished")" 'BEGIN{printf "%.2f", b - a}')
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}')
  shown=$(shown_done "$id" "$status" "$t0" "$secs")
  screen >"$WORK/screens/$label.txt"
  RUN_ROWS+=("$(printf '| %s | `%s` | %s | %s/%s | %s | %s | %s | %s |' "$label" "$cmd" "$status" "$hosts_ok" "$N" "$engine" "$wall" "$shown" "$(mib "$(status_kb VmRSS)")")")
  log "run $label: $status, $hosts_ok/$N ok, recorded duration ${engine}s, confirm key to record ${wall}s, to the console showing it done ${shown}s, RSS $(mib "$(status_kb VmRSS)") MiB"
}

# ---------------------------------------------------------------------------------------------
# The console.
: >"$WORK/idle.tsv"
# `exec env ... fleetdeck`: the pane's process becomes the console itself (its pid is ours).
printf -v CMDLINE '%q ' "${CONSOLE_ENV[@]}" "$FD" "${CONSOLE_ARGS[@]}"
log "starting the console: $FD ${CONSOLE_ARGS[*]}"
tm -f /dev/null new-session -d -s "$SESSION" -x "$COLS" -y "$ROWS" "exec ${CMDLINE}" || die "tmux new-session failed"
CONSOLE_PID=$(tm display-message -p -t "$SESSION:0" '#{pane_pid}')
[[ $CONSOLE_PID =~ ^[0-9]+$ ]] || die "no pane pid from tmux"
wait_screen "the fleet view" "$(fleet_name 1)" 20
[[ $(readlink "/proc/$CONSOLE_PID/exe") == "$FD" ]] || die "pane $CONSOLE_PID is not $FD ($(readlink "/proc/$CONSOLE_PID/exe"))"
sleep 2
idle fresh
RSS_FRESH=$(status_kb VmRSS)

keys :
text "target all"
keys Enter
for r in $(seq 1 "$RUNS"); do
  console_run "true-$r" true "$RUN_TIMEOUT"
  sleep 1
done
sleep 2
idle after-runs

# Every host prints STREAM_LINES lines at once (fanout N), STREAM_RUNS times: the console keeps
# at most its per-host scrollback cap of each run, so within a run its memory must level off
# while the bytes keep coming; the second run shows what a further run adds.
STREAM_CMD="seq -f 'line %g: a benchmark stream line about as long as a real log line is' $STREAM_LINES"
STREAM_ROWS=()
stream_run() { # K
  local k=$1 before c0 c1 s0 s1 ok=0 i rec hosts_ok bytes secs cpu peak rss shown
  keys 1 :
  text "run $STREAM_CMD"
  keys Enter
  wait_screen "the confirmation" "Run on $N hosts" 10
  before=$(history_lines)
  : >"$WORK/stream-rss-$k.tsv"
  c0=$(cpu_ticks); s0=$(date +%s.%N)
  keys Enter
  for i in $(seq $((RUN_TIMEOUT * 2))); do
    printf '%s\t%s\n' "$(awk -v a="$s0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')" "$(status_kb VmRSS)" >>"$WORK/stream-rss-$k.tsv"
    if (($(history_lines) > before)); then ok=1; break; fi
    kill -0 "$CONSOLE_PID" 2>/dev/null || die "the console exited while hosts streamed"
    sleep 0.5
  done
  s1=$(date +%s.%N)
  ((ok)) || { screen >"$WORK/screens/stream-$k.txt"; die "streaming run $k was not recorded within ${RUN_TIMEOUT}s"; }
  rec=$(grep '"started"' "$HISTORY" | tail -1)
  # Keep sampling memory until the console has drawn the run's end (it may lag the engine).
  shown="-"
  for i in $(seq $((RUN_TIMEOUT * 2))); do
    printf '%s\t%s\n' "$(awk -v a="$s0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')" "$(status_kb VmRSS)" >>"$WORK/stream-rss-$k.tsv"
    if screen | grep -q -- "run $(rec_field id "$rec") $(rec_field status "$rec"):"; then
      shown=$(awk -v a="$s0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
      break
    fi
    kill -0 "$CONSOLE_PID" 2>/dev/null || die "the console exited after streaming run $k"
    sleep 0.5
  done
  c1=$(cpu_ticks)
  screen >"$WORK/screens/stream-$k.txt"
  hosts_ok=$(grep -o '"state":"ok"' <<<"$rec" | grep -c .)
  bytes=$(grep -o '"bytes_out":[0-9]*' <<<"$rec" | cut -d: -f2 | awk '{s += $1} END {printf "%.0f", s / 1048576}')
  secs=$(awk -v a="$s0" -v b="$s1" 'BEGIN{printf "%.1f", b - a}')
  cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$CLK_TCK" 'BEGIN{printf "%.1f", (b - a) / hz}')
  peak=$(cut -f2 "$WORK/stream-rss-$k.tsv" | sort -n | tail -1)
  sleep 2
  rss=$(status_kb VmRSS)
  STREAM_ROWS+=("$(printf '| %s | %s/%s | %s | %s | %s | %s | %s | %s | %s |' "$k" "$hosts_ok" "$N" "$bytes" "$secs" "$shown" "$cpu" "$(mib "$peak")" "$(mib "$(status_kb VmHWM)")" "$(mib "$rss")")")
  log "stream $k: $hosts_ok/$N ok, $bytes MiB recorded after ${secs}s, shown done after ${shown}s, console CPU ${cpu}s, RSS highest sampled $(mib "$peak") MiB, VmHWM $(mib "$(status_kb VmHWM)") MiB, after $(mib "$rss") MiB"
}
for k in $(seq 1 "$STREAM_RUNS"); do stream_run "$k"; done

# Quit: no runs in flight, so Q quits without asking (closing the pooled connections);
# bounded wait, then cleanup ends it by pid.
q0=$(date +%s.%N)
keys Q
QUIT="did not exit within 30 s (ended by pid)"
for _ in $(seq 300); do
  if ! kill -0 "$CONSOLE_PID" 2>/dev/null; then
    QUIT="exited $(awk -v a="$q0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}') s after Q"
    break
  fi
  sleep 0.1
done
log "quit: $QUIT"

# ---------------------------------------------------------------------------------------------
# The one-shot tool on the same fleet, for comparison (RUNS times).
ONESHOT=()
for r in $(seq 1 "$RUNS"); do
  oneshot=(env -u SSH_AUTH_SOCK "$FD" --home "$H" run -t "$NODESET" --ssh-config "$FLEET_CFG" --fanout "$FANOUT" -- true)
  t0=$(date +%s.%N)
  timeout -k 10 "$RUN_TIMEOUT" "${oneshot[@]}" >"$WORK/oneshot-$r.out" 2>&1 </dev/null
  rc=$?
  t1=$(date +%s.%N)
  ONESHOT+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}') (exit $rc)")
  log "one-shot run $r: ${ONESHOT[-1]}"
done

# ---------------------------------------------------------------------------------------------
# Report.
REPORT=$WORK/results.md
{
  echo "Reproduce: \`bash scripts/bench-console.sh\` (N=$N RUNS=$RUNS IDLE_SECS=$IDLE_SECS STREAM_LINES=$STREAM_LINES STREAM_RUNS=$STREAM_RUNS OUTPUT_CAP=$OUTPUT_CAP FANOUT=$FANOUT)"
  echo
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "- fleetdeck: $("$FD" --version 2>&1 | head -1) ($FD_NOTE); console in tmux ${COLS}x${ROWS}, \`tui --ssh-config\` on aliases $NODESET"
  echo "- server: $(ssh -V 2>&1), one sshd on 127.0.0.1:$FLEET_PORT, KexAlgorithms curve25519-sha256"
  echo "- measured $(date -u '+%Y-%m-%d %H:%M UTC'), load1 now $(cut -d' ' -f1 /proc/loadavg)"
  echo
  echo "| idle | CPU % of one core over ${IDLE_SECS}s | ticks | RSS MiB | threads | machine load1 after |"
  echo "|---|---:|---:|---:|---:|---:|"
  while IFS=$'\t' read -r label pct ticks rss thr load; do
    printf '| %s | %s | %s | %s | %s | %s |\n' "$label" "$pct" "$ticks" "$(mib "$rss")" "$thr" "$load"
  done <"$WORK/idle.tsv"
  echo
  echo "| run | command | status | hosts ok | recorded duration s (finished - started) | confirm key → record s | confirm key → console shows it done s | RSS after, MiB |"
  echo "|---|---|---|---:|---:|---:|---:|---:|"
  printf '%s\n' "${RUN_ROWS[@]}"
  echo
  echo "One-shot \`fleetdeck run\` of \`true\` on the same $N hosts (wall s): ${ONESHOT[*]}"
  echo
  echo "Streaming: every host ran \`$STREAM_CMD\` at once (fanout $FANOUT); RSS before: $(mib "$RSS_FRESH") MiB fresh. Samples: $WORK/stream-rss-K.tsv"
  echo
  echo "| stream run | hosts ok | output MiB (recorded bytes_out) | confirm key → record s | confirm key → console shows it done s | console CPU s | RSS highest sampled MiB | VmHWM MiB | RSS after MiB |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${STREAM_ROWS[@]}"
  echo
  echo "Quit (Q): $QUIT."
} >"$REPORT"
log "report: $REPORT"
cat "$REPORT"
