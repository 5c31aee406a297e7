#!/usr/bin/env bash
# The wallboard left running on a big fleet: its idle CPU and its memory over time (one line a
# minute), how fast its screen follows a page key at 300x80, and how fast `fleetdeck status`
# answers while it runs.
#
# Usage: bash scripts/bench-wallboard.sh      (AGENTS=200 agents + SSH_HOSTS=500 SSH hosts, 30 min)
#
# The hosts are real, all on 127.0.0.1: AGENTS `fleetdeck agent` processes (TLS, pinned
# certificates; hosts.toml gives each its read.token as `read_token_file`, the only token the
# wallboard uses), and SSH_HOSTS aliases h001..hN of one private sshd (scripts/lib-fleet.sh:
# generated keys, an ssh_config with a HostKeyAlias per alias, strict known_hosts), which the
# wallboard samples through its fixed /proc probe every `[metrics] ssh_interval` (15 s, the
# default) over pooled connections.
#
# Steps:
#  1. start the agents and the sshd; write hosts.toml (AGENTS + SSH_HOSTS hosts);
#  2. start `fleetdeck --home H wallboard --rotate 20s --ssh-config .. --known-hosts ..` in a
#     tmux server of our own, 300x80, TERM=tmux-256color; wait (bounded, WAIT_SECS) until its
#     counts line says every host is up, then until the fleet page (worst first) shows no host
#     still `waiting` for its first sample (an open link counts as up before that);
#  3. screen update latency: FRAMES times, press `3` (incidents page) or `1` (fleet page),
#     alternately, and poll `tmux capture-pane` every 20 ms until the page's title shows the
#     page asked for. This is the time from the key to tmux holding the new screen, including
#     tmux's key delivery and the capture itself: an upper bound of one frame's cost, not the
#     render time. (Digits, not `→`: rotation moves to the *next* page, so a digit two pages
#     away can never be mistaken for a rotation that happened at the same moment.)
#  4. `fleetdeck --home H status` and `status --json`, STATUS_RUNS times each, wall time of
#     each process (bash's EPOCHREALTIME), against the status.json the wallboard keeps; the
#     same for /bin/true as the floor of starting a process here;
#  5. the soak: hands off for SECS; every SAMPLE_SECS the wallboard's CPU over the interval
#     (utime+stime, /proc/PID/stat), its RSS (VmRSS), load average and its counts line.
#     Reported: CPU % of one core over the whole soak and per interval, RSS first/last/max,
#     and the RSS slope (least squares, MiB per hour), over the whole soak and its second half.
#
# Knobs (environment): AGENTS=200 SSH_HOSTS=500 SECS=1800 SAMPLE_SECS=60 FRAMES=100
#   STATUS_RUNS=200 WAIT_SECS=300 WORK=/tmp/fleetdeck-bench-wallboard
#   FLEETDECK_BIN=path (skip `cargo build --release --locked` and use this binary)
# Report: $WORK/results.md (printed at the end); raw data in $WORK/curve.tsv, frames.ms,
# status*.ms, screens/.
# Every wait is bounded; only processes this script started are ended, by pid (and our own tmux
# server by its socket name). Network: 127.0.0.1 only.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
REPO=$(pwd)

AGENTS=${AGENTS:-200}
SSH_HOSTS=${SSH_HOSTS:-500}
SECS=${SECS:-1800}
SAMPLE_SECS=${SAMPLE_SECS:-60}
FRAMES=${FRAMES:-100}
STATUS_RUNS=${STATUS_RUNS:-200}
WAIT_SECS=${WAIT_SECS:-300}
WORK=${WORK:-/tmp/fleetdeck-bench-wallboard}
FLEETDECK_BIN=${FLEETDECK_BIN:-}
COLS=300
ROWS=80

bad() { echo "bench-wallboard: $*" >&2; exit 2; }
[[ $AGENTS =~ ^[0-9]+$ && $AGENTS -le 1000 ]] || bad "AGENTS must be 0..1000, got '$AGENTS'"
[[ $SSH_HOSTS =~ ^[0-9]+$ && $SSH_HOSTS -le 5000 ]] || bad "SSH_HOSTS must be 0..5000, got '$SSH_HOSTS'"
((AGENTS + SSH_HOSTS > 0)) || bad "AGENTS + SSH_HOSTS must be at least 1"
[[ $SECS =~ ^[1-9][0-9]*$ ]] || bad "SECS must be whole seconds > 0, got '$SECS'"
[[ $SAMPLE_SECS =~ ^[1-9][0-9]*$ && $SAMPLE_SECS -le $SECS ]] || bad "SAMPLE_SECS must be 1..SECS, got '$SAMPLE_SECS'"
[[ $FRAMES =~ ^[0-9]+$ && $FRAMES -le 1000 ]] || bad "FRAMES must be 0..1000, got '$FRAMES'"
[[ $STATUS_RUNS =~ ^[0-9]+$ && $STATUS_RUNS -le 10000 ]] || bad "STATUS_RUNS must be 0..10000, got '$STATUS_RUNS'"
[[ $WAIT_SECS =~ ^[1-9][0-9]*$ && $WAIT_SECS -le 3600 ]] || bad "WAIT_SECS must be 1..3600, got '$WAIT_SECS'"
[[ -z $FLEETDECK_BIN || -x $FLEETDECK_BIN ]] || bad "FLEETDECK_BIN is not an executable: '$FLEETDECK_BIN'"

log() { printf '[bench-wallboard %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in tmux awk sort getconf; do command -v "$tool" >/dev/null 2>&1 || die "$tool is needed"; done
((SSH_HOSTS == 0)) || [[ -x /usr/sbin/sshd ]] || die "/usr/sbin/sshd is needed for SSH_HOSTS > 0"
[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 is needed (EPOCHREALTIME)"

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
rm -rf "${WORK:?}/home" "${WORK:?}/agents" "${WORK:?}/screens" "${WORK:?}/bin" "${WORK:?}/fleet"
mkdir -p "$WORK/home/config" "$WORK/agents" "$WORK/screens" "$WORK/bin" "$WORK/fleet"
FLEET_DIR=$WORK/fleet
# shellcheck source=scripts/lib-fleet.sh
source "$REPO/scripts/lib-fleet.sh"

TMUX_SOCK=fdwallbench-$$
SESSION=fdwallbench-$$
WB_PID=""
AGENT_PIDS=()
cleanup() {
  # The wallboard first (SIGTERM: it restores its terminal), then our tmux server.
  if [[ -n $WB_PID ]] && kill -0 "$WB_PID" 2>/dev/null; then
    kill "$WB_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$WB_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
  local pid
  for pid in "${AGENT_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${AGENT_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  done
  fleet_stop_sshd
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

[[ -z $FLEETDECK_BIN ]] && log "building fleetdeck (cargo build --release --locked)"
fleet_fleetdeck_copy "$WORK" || die "no fleetdeck binary to benchmark"
"$FD" wallboard --help >/dev/null 2>&1 || die "this fleetdeck has no \`wallboard\` command"
"$FD" status --help >/dev/null 2>&1 || die "this fleetdeck has no \`status\` command"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
# Agents: init (read and exec tokens), run on a random loopback port; all started, then waited
# for (each one's ready file), 120 s at most in all.
for a in $(seq 1 "$AGENTS"); do
  d=$WORK/agents/a$a
  "$FD" agent init --dir "$d" --name "a$a" >"$d.init" 2>&1 || die "agent init a$a: $(tail -3 "$d.init")"
  [[ -s $d/read.token ]] || die "agent init a$a wrote no read.token"
  "$FD" agent run --dir "$d" --listen 127.0.0.1:0 --ready-file "$d/ready" </dev/null >"$d/agent.log" 2>&1 &
  AGENT_PIDS+=($!)
done
H=$WORK/home
: >"$H/config/hosts.toml"
deadline=$((SECONDS + 120))
for a in $(seq 1 "$AGENTS"); do
  d=$WORK/agents/a$a
  while [[ ! -s $d/ready ]] && ((SECONDS < deadline)); do sleep 0.1; done
  [[ -s $d/ready ]] || die "agent a$a did not start: $(tail -3 "$d/agent.log")"
  pin=$(grep -o 'fingerprint = "sha256:[0-9a-f]*"' "$d.init" | head -1 | cut -d'"' -f2)
  [[ -n $pin ]] || die "no fingerprint in the output of agent init a$a"
  printf '[[hosts]]\nname = "a%03d"\ntransport = "agent"\nenv = "bench"\nagent = { url = "%s", fingerprint = "%s", token_file = "%s", read_token_file = "%s" }\n\n' \
    "$a" "$(tr -d '[:space:]' <"$d/ready")" "$pin" "$d/exec.token" "$d/read.token" >>"$H/config/hosts.toml"
done
((AGENTS > 0)) && log "$AGENTS agents up"

# SSH hosts: one sshd, SSH_HOSTS aliases.
SSH_ARGS=()
if ((SSH_HOSTS > 0)); then
  fleet_setup "$SSH_HOSTS" || die "fleet setup"
  fleet_start_sshd curve25519 || die "sshd did not start"
  printf '[[hosts]]\nname = "%s"\nenv = "bench"\n' "$(fleet_nodeset "$SSH_HOSTS")" >>"$H/config/hosts.toml"
  SSH_ARGS=(--ssh-config "$FLEET_CFG" --known-hosts "$FLEET_KH")
  log "sshd pid $FLEET_SSHD_PID on 127.0.0.1:$FLEET_PORT, $SSH_HOSTS aliases"
fi
TOTAL_HOSTS=$((AGENTS + SSH_HOSTS))

# ---------------------------------------------------------------------------------------------
tm() { tmux -L "$TMUX_SOCK" "$@"; }
screen() { tm capture-pane -p -t "$SESSION:0" 2>/dev/null; }
now_us() { echo "${EPOCHREALTIME/./}"; }
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { sed 's/.*) //' "/proc/$WB_PID/stat" | awk '{print $12 + $13}'; }
status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$WB_PID/status"; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k / 1024}'; }
counts_line() { screen | sed -n 2p | sed 's/[[:space:]]*$//'; }
# Nearest-rank median, p95, max and mean of the numbers (ms) in a file.
stats() { sort -n "$1" | awk '{a[NR] = $1; s += $1} END {
  if (NR == 0) { print "n/a"; exit }
  p = int(NR * 0.95); if (p < NR * 0.95) p++
  printf "median %.1f ms, p95 %.1f ms, max %.1f ms, mean %.1f ms (n=%d)", a[int((NR + 1) / 2)], a[p], a[NR], s / NR, NR }'; }

WB_CMD=$(printf '%q ' "$FD" --home "$H" wallboard --rotate 20s "${SSH_ARGS[@]}")
tm new-session -d -s "$SESSION" -x "$COLS" -y "$ROWS" \
  "exec env -u TMUX -u SSH_AUTH_SOCK TERM=tmux-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 $WB_CMD 2>'$WORK/wallboard.stderr'" || die "tmux"
for _ in $(seq 100); do
  WB_PID=$(tm display -p -t "$SESSION:0" '#{pane_pid}' 2>/dev/null)
  [[ -n $WB_PID && -r /proc/$WB_PID/stat ]] && grep -q wallboard "/proc/$WB_PID/cmdline" 2>/dev/null && break
  sleep 0.1
done
grep -q wallboard "/proc/$WB_PID/cmdline" 2>/dev/null || die "the wallboard did not start: $(cat "$WORK/wallboard.stderr" 2>/dev/null)"
log "wallboard pid $WB_PID (${COLS}x${ROWS}); waiting up to ${WAIT_SECS}s for $TOTAL_HOSTS hosts to be up"
T_START=$SECONDS
ALL_UP=""
while ((SECONDS - T_START < WAIT_SECS)); do
  if counts_line | grep -q " $TOTAL_HOSTS/$TOTAL_HOSTS up"; then ALL_UP=$((SECONDS - T_START)); break; fi
  kill -0 "$WB_PID" 2>/dev/null || die "the wallboard exited: $(cat "$WORK/wallboard.stderr" 2>/dev/null)"
  sleep 0.5
done
UP_LINE=$(counts_line)
screen >"$WORK/screens/up.txt"
if [[ -n $ALL_UP ]]; then
  log "all $TOTAL_HOSTS hosts up after ${ALL_UP}s: $UP_LINE"
else
  log "warning: not every host up within ${WAIT_SECS}s: $UP_LINE"
fi
# "Up" counts an open link (a connected agent, a pooled SSH connection) before its first
# sample; the fleet page, worst first, lists hosts still `waiting` for one at the top. Wait
# (same budget) until the fleet page shows none, so the measurements start on a sampled fleet.
page_is() { screen | sed -n 3p | grep -q "^┌ $1 ·"; }
SAMPLED=""
while ((SECONDS - T_START < WAIT_SECS)); do
  page_is fleet || tm send-keys -t "$SESSION:0" 1
  sleep 0.5
  if page_is fleet && ! screen | grep -q "· waiting"; then SAMPLED=$((SECONDS - T_START)); break; fi
  kill -0 "$WB_PID" 2>/dev/null || die "the wallboard exited: $(cat "$WORK/wallboard.stderr" 2>/dev/null)"
done
screen >"$WORK/screens/sampled.txt"
if [[ -n $SAMPLED ]]; then
  log "no host waiting for its first sample after ${SAMPLED}s"
else
  log "warning: hosts still waiting for a first sample after ${WAIT_SECS}s"
fi
RSS_UP=$(mib "$(status_kb VmRSS)")

# ---------------------------------------------------------------------------------------------
# Screen update latency after a page key.
: >"$WORK/frames.ms"
FRAME_MISSES=0
for i in $(seq 1 "$FRAMES"); do
  if ((i % 2)); then key=3 want=incidents; else key=1 want=fleet; fi
  if page_is "$want"; then
    # Already there (a rotation): step away first, and let that frame land.
    tm send-keys -t "$SESSION:0" 2
    sleep 0.5
  fi
  t0=$(now_us)
  tm send-keys -t "$SESSION:0" "$key"
  shown=""
  for _ in $(seq 250); do
    if page_is "$want"; then shown=$(now_us); break; fi
    sleep 0.02
  done
  if [[ -n $shown ]]; then
    awk -v a="$t0" -v b="$shown" 'BEGIN{printf "%.1f\n", (b - a) / 1000}' >>"$WORK/frames.ms"
  else
    FRAME_MISSES=$((FRAME_MISSES + 1))
  fi
  sleep 0.3
done
screen >"$WORK/screens/after-frames.txt"
tm send-keys -t "$SESSION:0" 1
((FRAMES > 0)) && log "page key -> screen: $(stats "$WORK/frames.ms"); not shown within 5 s: $FRAME_MISSES"

# ---------------------------------------------------------------------------------------------
# `fleetdeck status` while the wallboard runs.
for _ in $(seq 50); do [[ -s $H/data/status.json ]] && break; sleep 0.2; done
[[ -s $H/data/status.json ]] || log "warning: no $H/data/status.json after 10 s"
time_runs() { # OUT CMD...
  local out=$1 t0 t1 _i rc bad=0
  shift
  : >"$out"
  for _i in $(seq 1 "$STATUS_RUNS"); do
    t0=$(now_us)
    "$@" >/dev/null 2>>"$out.stderr"
    rc=$?
    t1=$(now_us)
    ((rc == 0)) || bad=$((bad + 1))
    awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f\n", (b - a) / 1000}' >>"$out"
  done
  echo "$bad"
}
export LANG=C.UTF-8 LC_ALL=C.UTF-8
STATUS_LINE=$("$FD" --home "$H" status 2>&1)
"$FD" --home "$H" status --json >"$WORK/status.json.out" 2>&1
TRUE_BAD=$(time_runs "$WORK/true.ms" /bin/true)
STATUS_BAD=$(time_runs "$WORK/status.ms" "$FD" --home "$H" status)
JSON_BAD=$(time_runs "$WORK/status-json.ms" "$FD" --home "$H" status --json)
TMUX_BAD=$(time_runs "$WORK/status-tmux.ms" "$FD" --home "$H" status --tmux)
log "status: $(stats "$WORK/status.ms") (non-zero exits: $STATUS_BAD)"
log "status --json: $(stats "$WORK/status-json.ms") (non-zero exits: $JSON_BAD)"

# ---------------------------------------------------------------------------------------------
# The soak: hands off.
printf 't_s\tcpu_pct_interval\trss_mib\tload1\tcounts\n' >"$WORK/curve.tsv"
T0=$(date +%s.%N)
C0=$(cpu_ticks)
c_prev=$C0 t_prev=$T0
printf '%s\t%s\t%s\t%s\t%s\n' 0 "" "$(mib "$(status_kb VmRSS)")" "$(cut -d' ' -f1 /proc/loadavg)" "$(counts_line)" >>"$WORK/curve.tsv"
log "soak: ${SECS}s, a sample every ${SAMPLE_SECS}s; rss at start $(mib "$(status_kb VmRSS)") MiB"
elapsed=0
while ((elapsed < SECS)); do
  sleep "$SAMPLE_SECS"
  kill -0 "$WB_PID" 2>/dev/null || die "the wallboard exited during the soak"
  c=$(cpu_ticks) t=$(date +%s.%N)
  pct=$(awk -v a="$c_prev" -v b="$c" -v s0="$t_prev" -v s1="$t" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", 100 * (b - a) / hz / (s1 - s0)}')
  elapsed=$(awk -v a="$T0" -v b="$t" 'BEGIN{printf "%d", b - a}')
  rss=$(mib "$(status_kb VmRSS)")
  line=$(counts_line)
  printf '%s\t%s\t%s\t%s\t%s\n' "$elapsed" "$pct" "$rss" "$(cut -d' ' -f1 /proc/loadavg)" "$line" >>"$WORK/curve.tsv"
  log "t=${elapsed}s cpu ${pct}% rss ${rss} MiB load $(cut -d' ' -f1 /proc/loadavg) | $line"
  c_prev=$c t_prev=$t
done
C1=$(cpu_ticks) T1=$(date +%s.%N)
CPU_TOTAL=$(awk -v a="$C0" -v b="$C1" -v s0="$T0" -v s1="$T1" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", 100 * (b - a) / hz / (s1 - s0)}')
CPU_SECS=$(awk -v a="$C0" -v b="$C1" -v hz="$CLK_TCK" 'BEGIN{printf "%.1f", (b - a) / hz}')
HWM=$(mib "$(status_kb VmHWM)")
THREADS=$(awk '$1 == "Threads:" {print $2}' "/proc/$WB_PID/status")
screen >"$WORK/screens/end.txt"
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# Interval CPU: min/median/max; RSS: first/last/max and the least-squares slope (MiB/h).
CPU_IV=$(tail -n +3 "$WORK/curve.tsv" | cut -f2 | sort -n | awk '{a[NR] = $1} END {
  if (NR == 0) { print "n/a"; exit } printf "min %.2f%%, median %.2f%%, max %.2f%%", a[1], a[int((NR + 1) / 2)], a[NR] }')
slope() { # FROM_T: slope of rss over t for t >= FROM_T
  tail -n +2 "$WORK/curve.tsv" | awk -F'\t' -v from="$1" '$1 >= from {
    n++; x = $1 / 3600; y = $3; sx += x; sy += y; sxx += x * x; sxy += x * y }
    END { d = n * sxx - sx * sx; if (n < 3 || d == 0) print "n/a"; else printf "%+.2f", (n * sxy - sx * sy) / d }'
}
RSS_FIRST=$(tail -n +2 "$WORK/curve.tsv" | head -1 | cut -f3)
RSS_LAST=$(tail -1 "$WORK/curve.tsv" | cut -f3)
RSS_MAX=$(tail -n +2 "$WORK/curve.tsv" | cut -f3 | sort -n | tail -1)
SLOPE_ALL=$(slope 0)
SLOPE_HALF=$(slope $((SECS / 2)))

{
  echo "# bench-wallboard: AGENTS=$AGENTS agents + SSH_HOSTS=$SSH_HOSTS SSH hosts, ${COLS}x${ROWS}, soak ${SECS}s"
  echo
  echo "- fleetdeck: $("$FD" --version 2>&1 | head -1), binary ${FLEETDECK_BIN:-target/release/fleetdeck} (tree $FD_NOTE)"
  echo "- \`wallboard --rotate 20s\` in tmux $(tmux -V | cut -d' ' -f2), TERM=tmux-256color; agents with read tokens, SSH through one loopback sshd, \`ssh_interval\` 15 s (default)"
  echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); load average at start $LOAD_START, at end $LOAD_END"
  if [[ -n $ALL_UP ]]; then
    echo "- hosts up: all after ${ALL_UP} s: \`$UP_LINE\`"
  else
    echo "- hosts up: **not all within ${WAIT_SECS} s**: \`$UP_LINE\`"
  fi
  if [[ -n $SAMPLED ]]; then
    echo "- first sample of every host on the fleet page: after ${SAMPLED} s"
  else
    echo "- first sample of every host on the fleet page: **not within ${WAIT_SECS} s**"
  fi
  echo
  echo "## Idle soak"
  echo
  echo "- CPU over the whole soak: **${CPU_TOTAL}%** of one core (${CPU_SECS} s of CPU in ${SECS} s); per ${SAMPLE_SECS} s interval: $CPU_IV"
  echo "- RSS: ${RSS_UP} MiB when every host was up; soak first ${RSS_FIRST} MiB, last ${RSS_LAST} MiB, max ${RSS_MAX} MiB; VmHWM ${HWM} MiB; ${THREADS} threads"
  echo "- RSS slope (least squares): **${SLOPE_ALL} MiB/h** over the soak, ${SLOPE_HALF} MiB/h over its second half"
  echo
  echo "| t (s) | CPU over the interval (% of one core) | RSS (MiB) | load1 | counts line |"
  echo "|---:|---:|---:|---:|---|"
  tail -n +2 "$WORK/curve.tsv" | awk -F'\t' '{printf "| %s | %s | %s | %s | `%s` |\n", $1, ($2 == "" ? "-" : $2), $3, $4, $5}'
  echo
  echo "## Screen update after a page key (${COLS}x${ROWS})"
  echo
  echo "Key sent with \`tmux send-keys\` to the new page's title in \`tmux capture-pane\`, polled every 20 ms (includes tmux and the capture; not render time):"
  echo "$(stats "$WORK/frames.ms"); not shown within 5 s: $FRAME_MISSES of $FRAMES"
  echo
  echo "## \`fleetdeck status\` while the wallboard runs"
  echo
  echo "Wall time of the process, $STATUS_RUNS runs each (line: \`$STATUS_LINE\`):"
  echo
  echo "- \`status\`: $(stats "$WORK/status.ms"); non-zero exits $STATUS_BAD"
  echo "- \`status --json\`: $(stats "$WORK/status-json.ms"); non-zero exits $JSON_BAD"
  echo "- \`status --tmux\`: $(stats "$WORK/status-tmux.ms"); non-zero exits $TMUX_BAD"
  echo "- \`/bin/true\` (the floor of starting a process here): $(stats "$WORK/true.ms"); non-zero exits $TRUE_BAD"
} >"$WORK/results.md"
cat "$WORK/results.md"
