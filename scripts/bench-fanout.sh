#!/usr/bin/env bash
# Fan-out over SSH: fleetdeck against pdsh (-R ssh), clush and bssh on a loopback OpenSSH fleet.
#
# Usage: bash scripts/bench-fanout.sh [N...]          (default: 50 200 500)
#
# One private sshd on 127.0.0.1 (its own host key, a free port) serves every "host"; aliases
# h001..hN in a generated ssh_config point at it, each with its own HostKeyAlias and known_hosts
# entry (strict host key checking, batch mode, key auth only). For every server setting
# (OpenSSH's default key exchange, then KexAlgorithms curve25519-sha256) and every N, each tool
# runs the same command at the same fan-out, RUNS times, interleaved (rep 1 of every tool, then
# rep 2, ...). Each invocation is timed with GNU time (wall, client user+sys CPU, peak RSS of
# the largest single client process), bounded by `timeout`, and verified: exit status 0 and the
# expected output from every one of the N hosts, or it is reported as failed, not timed.
# sshd's own CPU (the whole sshd tree, remote shells included) comes from the listener's
# cutime/cstime in /proc once all its children have exited.
#
# Before each series (one server setting and one N) it waits until the 1-minute load average is
# below LOAD_MAX, at most LOAD_WAIT_BUDGET seconds over the whole script, and records the load.
#
# Knobs (environment):
#   RUNS=3 FANOUT=64 BENCH_CMD=hostname KEX_MODES="default curve25519" (or "limits": curve25519
#   with sshd's default MaxStartups/MaxSessions instead of raised ones)
#   TOOLS="fleetdeck bssh pdsh clush" LOAD_MAX=0.8 LOAD_WAIT_BUDGET=900 RUN_TIMEOUT=300
#   WORK=/tmp/fleetdeck-bench-fanout  BSSH_ROOT=/tmp/bssh-root  BSSH_VERSION=2.2.3
#   FLEETDECK_BIN=path  (skip `cargo build --release` and use this binary)
#
# Installs what is missing (root: apt-get install openssh-server openssh-client pdsh clustershell
# time; `cargo install bssh@$BSSH_VERSION --locked --root $BSSH_ROOT`). Writes the markdown
# report to $WORK/results.md and prints it at the end; raw per-run figures in $WORK/runs.tsv.
# Ctrl-C stops the private sshd (by its pid) and exits 130.
set -uo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)

RUNS=${RUNS:-3}
FANOUT=${FANOUT:-64}
BENCH_CMD=${BENCH_CMD:-hostname}
KEX_MODES=${KEX_MODES:-default curve25519}
TOOLS=${TOOLS:-fleetdeck bssh pdsh clush}
LOAD_MAX=${LOAD_MAX:-0.8}
LOAD_WAIT_BUDGET=${LOAD_WAIT_BUDGET:-900}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
WORK=${WORK:-/tmp/fleetdeck-bench-fanout}
BSSH_ROOT=${BSSH_ROOT:-/tmp/bssh-root}
BSSH_VERSION=${BSSH_VERSION:-2.2.3}
FLEETDECK_BIN=${FLEETDECK_BIN:-}

if (($#)); then SIZES=("$@"); else SIZES=(50 200 500); fi
for n in "${SIZES[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ && $n -le 9999 ]] || { echo "bench-fanout: N must be 1..9999, got '$n'" >&2; exit 2; }
done

log() { printf '[bench-fanout %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# The fleet (keys, ssh_config, known_hosts, the private sshd) is scripts/lib-fleet.sh's, kept
# under $WORK. Cleanup: stop our sshd by its pid (never by name), on any exit, Ctrl-C included.
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
FLEET_DIR=$WORK
# shellcheck source=scripts/lib-fleet.sh
source "$REPO/scripts/lib-fleet.sh"
trap 'fleet_stop_sshd' EXIT
trap 'log "interrupted"; fleet_stop_sshd; exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Prerequisites.
need_pkgs=()
[[ -x /usr/sbin/sshd ]] || need_pkgs+=(openssh-server)
command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 || need_pkgs+=(openssh-client)
[[ -x /usr/bin/time ]] && /usr/bin/time -f '%e' true >/dev/null 2>&1 || need_pkgs+=(time)
[[ " $TOOLS " == *" pdsh "* ]] && ! command -v pdsh >/dev/null 2>&1 && need_pkgs+=(pdsh)
[[ " $TOOLS " == *" clush "* ]] && ! command -v clush >/dev/null 2>&1 && need_pkgs+=(clustershell)
command -v timeout >/dev/null 2>&1 || need_pkgs+=(coreutils)
command -v ps >/dev/null 2>&1 || need_pkgs+=(procps)
if ((${#need_pkgs[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    die "please install: ${need_pkgs[*]} (sudo apt-get install -y ${need_pkgs[*]})"
  fi
  log "installing ${need_pkgs[*]}"
  apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null ||
    die "apt-get install ${need_pkgs[*]} failed"
fi

BSSH=""
if [[ " $TOOLS " == *" bssh "* ]]; then
  BSSH=$BSSH_ROOT/bin/bssh
  if ! [[ -x $BSSH ]] || ! "$BSSH" --version 2>/dev/null | grep -q "$BSSH_VERSION"; then
    command -v cargo >/dev/null 2>&1 || die "cargo is needed to install bssh"
    log "installing bssh $BSSH_VERSION into $BSSH_ROOT (cargo install; takes a while on 2 cores)"
    nice -n 10 cargo install "bssh@$BSSH_VERSION" --locked --root "$BSSH_ROOT" ||
      die "cargo install bssh@$BSSH_VERSION failed"
  fi
fi

rm -rf "$WORK/out" "$WORK/probe" "$WORK/fd-home" "$WORK/bssh-home"
mkdir -p "$WORK/out" "$WORK/probe" "$WORK/bin"

FD_NOTE=""
if [[ " $TOOLS " == *" fleetdeck "* ]]; then
  [[ -z $FLEETDECK_BIN ]] && log "building fleetdeck (cargo build --release --locked)"
  fleet_fleetdeck_copy "$WORK" || die "no fleetdeck binary to benchmark"
  FD_NOTE="fleetdeck $FD_NOTE"
fi

# ---------------------------------------------------------------------------------------------
# The fleet: keys, ssh_config, known_hosts, fleetdeck home, pdsh hosts file.
MAXN=0
for n in "${SIZES[@]}"; do ((n > MAXN)) && MAXN=$n; done
fleet_setup "$MAXN" || die "fleet setup failed"

mkdir -p "$WORK/fd-home/config"
cat >"$WORK/fd-home/config/hosts.toml" <<EOF
[[hosts]]
name = "$(fleet_nodeset "$MAXN")"
env = "bench"
EOF

# bssh checks host keys only against ~/.ssh/known_hosts, under the name it connects to
# ([127.0.0.1]:PORT after the ssh config): give it a private HOME with that file.
mkdir -p "$WORK/bssh-home/.ssh"
chmod 700 "$WORK/bssh-home" "$WORK/bssh-home/.ssh"
{ cat "$FLEET_KH"; printf '[127.0.0.1]:%s %s\n' "$FLEET_PORT" "$FLEET_HOSTKEY_PUB"; } >"$WORK/bssh-home/.ssh/known_hosts"

for n in 1 "${SIZES[@]}"; do
  for i in $(seq 1 "$n"); do fleet_name "$i"; echo; done >"$WORK/hosts-$n"
done

# ---------------------------------------------------------------------------------------------
# sshd.
# "limits" is curve25519 with OpenSSH's default MaxStartups 10:30:100 and MaxSessions 10, to see
# how each tool copes with sshd dropping handshakes (not in the default KEX_MODES).
start_sshd() { # MODE LOGLEVEL LOGFILE
  fleet_start_sshd "$1" "$2" "$3" || die "sshd did not start (setting $1, log $3)"
  wait_sshd_idle
}

CLK_TCK=$(getconf CLK_TCK)
sshd_ticks() { # utime+stime+cutime+cstime of the listener
  sed 's/.*) //' "/proc/$FLEET_SSHD_PID/stat" | awk '{print $12 + $13 + $14 + $15}'
}
wait_sshd_idle() { # until the listener has no children left (they are reaped into cutime)
  for _ in $(seq 200); do
    [[ -z $(ps --ppid "$FLEET_SSHD_PID" -o pid= 2>/dev/null) ]] && return 0
    sleep 0.05
  done
  return 1
}

# ---------------------------------------------------------------------------------------------
# Load.
WAITED=0
load1() { cut -d' ' -f1 /proc/loadavg; }
# Share of both cores busy (anything but idle and iowait) over the next 5 s, in %. Sampled
# before a series, when nothing of ours runs: it shows other work on the machine, whereas the
# 1-minute load average also still carries the tail of the previous series (pdsh and clush make
# it jump to 30-50 with their hundreds of ssh processes).
cpu_busy() {
  local a b
  a=$(head -1 /proc/stat); sleep 5; b=$(head -1 /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y); t = 0; for (i = 2; i <= 11; i++) t += y[i] - x[i]
    idle = (y[5] - x[5]) + (y[6] - x[6]); printf "%.0f", t ? 100 * (t - idle) / t : 0 }'
}
wait_quiet() {
  local l
  while :; do
    l=$(load1)
    awk -v l="$l" -v m="$LOAD_MAX" 'BEGIN{exit !(l < m)}' && return 0
    if ((WAITED >= LOAD_WAIT_BUDGET)); then return 1; fi
    sleep 10; WAITED=$((WAITED + 10))
  done
}

# ---------------------------------------------------------------------------------------------
# The tools. Each builds its command line into CMD for N hosts.
tool_cmd() { # TOOL N
  local tool=$1 n=$2
  case $tool in
    fleetdeck)
      CMD=(env -u SSH_AUTH_SOCK "$FD" --home "$WORK/fd-home" run -t "$(fleet_nodeset "$n")"
        --ssh-config "$FLEET_CFG" --fanout "$FANOUT" --gather -- "$BENCH_CMD") ;;
    pdsh)
      CMD=(env -u SSH_AUTH_SOCK PDSH_SSH_ARGS="-F $FLEET_CFG %h" pdsh -S -R ssh -f "$FANOUT"
        -w "^$WORK/hosts-$n" "$BENCH_CMD") ;;
    clush)
      CMD=(env -u SSH_AUTH_SOCK clush -S -f "$FANOUT" -w "$(fleet_nodeset "$n")" -o "-F $FLEET_CFG"
        "$BENCH_CMD") ;;
    bssh)
      CMD=(env -u SSH_AUTH_SOCK HOME="$WORK/bssh-home" "$BSSH" -F "$FLEET_CFG" -H "$(fleet_nodeset "$n")"
        -i "$FLEET_KEY" --parallel "$FANOUT" --strict-host-key-checking yes
        --require-all-success -b
        "$BENCH_CMD") ;;
    *) die "unknown tool $tool" ;;
  esac
}

EXPECT=$(hostname)
# How many hosts printed the expected output (every host runs on this machine, so every host
# prints the same line).
count_ok() { # TOOL OUTFILE N
  local tool=$1 out=$2
  case $tool in
    fleetdeck)
      # ---------------\nh[001-500] (500) · exit 0\n---------------\nHOSTNAME
      awk -v want="$EXPECT" '
        prev_sep && /^[^ ]+ \([0-9]+\) · exit / { hdr = $0; next_is_sep = 1; prev_sep = 0; next }
        next_is_sep && /^-+$/ { next_is_sep = 0; body = 1; next }
        body { if ($0 == want && hdr ~ / · exit 0$/) { match(hdr, /\(([0-9]+)\)/); n += substr(hdr, RSTART + 1, RLENGTH - 2) } body = 0 }
        { prev_sep = ($0 ~ /^-+$/) }
        END { print n + 0 }' "$out" ;;
    pdsh | clush)
      awk -v want="$EXPECT" '{ i = index($0, ": "); if (i && substr($0, i + 2) == want) seen[substr($0, 1, i - 1)] = 1 }
        END { print length(seen) }' "$out" ;;
    bssh)
      # bssh names every alias by its destination (root@127.0.0.1:PORT), so hosts cannot be told
      # apart: count the "✓ destination" headers followed by the expected line (its summary,
      # "N nodes • N successful", must agree, or nothing counts).
      sed 's/\x1b\[[0-9;]*m//g' "$out" | awk -v want="  $EXPECT" '
        /^✓ / { ok_hdr = 1; next }
        ok_hdr && $0 == want { c++ }
        { ok_hdr = 0 }
        /Summary: / { if (match($0, /[0-9]+ successful/)) s = substr($0, RSTART, RLENGTH) + 0; else s = 0; seen = 1 }
        END { print ((seen && s == c) ? c + 0 : 0) }' ;;
  esac
}

RUNS_TSV=$WORK/runs.tsv
printf 'mode\tn\ttool\trep\tstatus\twall_s\tuser_s\tsys_s\tmaxrss_kb\tsshd_cpu_s\tload1\tnote\n' >"$RUNS_TSV"

run_one() { # MODE N TOOL REP -> appends a row to runs.tsv
  local mode=$1 n=$2 tool=$3 rep=$4
  local base=$WORK/out/$mode-$n-$tool-$rep
  local l0 t0 t1 rc ok status note="" wall user sys rss scpu
  tool_cmd "$tool" "$n"
  printf '%q ' "${CMD[@]}" >"$base.cmd"
  l0=$(load1)
  wait_sshd_idle
  t0=$(sshd_ticks)
  (cd "$WORK/out" && /usr/bin/time -o "$base.time" -f '%e %U %S %M' \
    timeout -k 10 "$RUN_TIMEOUT" "${CMD[@]}" >"$base.out" 2>"$base.err" </dev/null)
  rc=$?
  wait_sshd_idle || note+="sshd children still alive; "
  t1=$(sshd_ticks)
  scpu=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", (b - a) / hz}')
  read -r wall user sys rss < <(tail -1 "$base.time")
  ok=$(count_ok "$tool" "$base.out" "$n")
  if ((rc == 0 && ok == n)); then
    status=ok
  else
    status=failed
    ((rc == 124 || rc == 137)) && note+="timed out after ${RUN_TIMEOUT}s; "
    note+="exit $rc, $ok/$n hosts ok; stderr: $(grep -v '^\s*$' "$base.err" | head -3 | tr '\n\t' '  ' | cut -c1-300)"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$n" "$tool" "$rep" "$status" \
    "$wall" "$user" "$sys" "$rss" "$scpu" "$l0" "$note" >>"$RUNS_TSV"
  log "$mode N=$n $tool #$rep: $status wall ${wall}s cpu ${user}+${sys}s rss ${rss}KB sshd ${scpu}s load $l0 ${note:+($note)}"
}

# ---------------------------------------------------------------------------------------------
# Versions and machine.
versions() {
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "- server: $(ssh -V 2>&1) (sshd on 127.0.0.1:$FLEET_PORT, one sshd for every alias)"
  [[ " $TOOLS " == *" fleetdeck "* ]] && echo "- fleetdeck: $("$FD" --version 2>&1 | head -1) ($FD_NOTE; $(rustc --version 2>/dev/null))"
  [[ " $TOOLS " == *" bssh "* ]] && echo "- bssh: $("$BSSH" --version 2>&1 | head -1)"
  [[ " $TOOLS " == *" pdsh "* ]] && echo "- pdsh: $(pdsh -V 2>&1 | head -1), OpenSSH client $(ssh -V 2>&1 | cut -d, -f1)"
  [[ " $TOOLS " == *" clush "* ]] && echo "- clush: ClusterShell $(clush --version 2>&1 | awk '{print $NF}'), OpenSSH client"
}

# ---------------------------------------------------------------------------------------------
# Probe: each tool once on one host with sshd at DEBUG1, to check it works and to see which key
# exchange it negotiates.
declare -A KEX_OF
probe() { # MODE
  local mode=$1 tool out lines
  for tool in $TOOLS; do
    start_sshd "$mode" DEBUG1 "$WORK/probe/sshd-$mode-$tool.log"
    tool_cmd "$tool" 1
    (cd "$WORK/out" && timeout -k 5 60 "${CMD[@]}" >"$WORK/probe/$mode-$tool.out" 2>"$WORK/probe/$mode-$tool.err" </dev/null)
    local rc=$?
    wait_sshd_idle
    lines=$(count_ok "$tool" "$WORK/probe/$mode-$tool.out" 1)
    KEX_OF[$mode,$tool]=$(grep -m1 -o 'kex: algorithm: [^ ]*' "$WORK/probe/sshd-$mode-$tool.log" | awk '{print $3}')
    if ((rc != 0 || lines != 1)); then
      log "probe $mode $tool: FAILED (exit $rc, $lines/1 hosts ok): $(head -5 "$WORK/probe/$mode-$tool.err" | tr '\n' ' ')"
      KEX_OF[$mode,$tool]="${KEX_OF[$mode,$tool]:-?} (probe failed)"
    else
      log "probe $mode $tool: ok, kex ${KEX_OF[$mode,$tool]:-?}"
    fi
  done
}

# ---------------------------------------------------------------------------------------------
# The benchmark.
declare -A SERIES_LOAD
QUIET_FAILED=0
for mode in $KEX_MODES; do
  log "=== server setting: $mode"
  probe "$mode"
  start_sshd "$mode" ERROR "$WORK/sshd-$mode.log"
  for n in "${SIZES[@]}"; do
    if wait_quiet; then q=""; else q=" (not quiet)"; QUIET_FAILED=1; fi
    busy=$(cpu_busy)
    SERIES_LOAD[$mode,$n]="$(load1)$q · ${busy}%"
    log "--- $mode N=$n: load $(load1)$q, CPU ${busy}% busy over 5 s (waited ${WAITED}s of ${LOAD_WAIT_BUDGET}s so far)"
    read -r -a order <<<"$TOOLS"
    for rep in $(seq 1 "$RUNS"); do
      for k in "${!order[@]}"; do
        # rotate the order each rep so no tool always runs right after the same one
        tool=${order[$(((k + rep - 1) % ${#order[@]}))]}
        run_one "$mode" "$n" "$tool" "$rep"
      done
    done
  done
  fleet_stop_sshd
done

# ---------------------------------------------------------------------------------------------
# Report.
median() { sort -g | awk '{a[NR] = $1} END { if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
REPORT=$WORK/results.md
{
  echo "Reproduce: \`bash scripts/bench-fanout.sh ${SIZES[*]}\` (RUNS=$RUNS FANOUT=$FANOUT BENCH_CMD=$BENCH_CMD)"
  echo
  versions
  echo "- measured $(date -u '+%Y-%m-%d %H:%M UTC'); median of $RUNS runs, tools interleaved; command \`$BENCH_CMD\`, fan-out $FANOUT"
  if ((QUIET_FAILED)); then
    echo "- **the machine was not quiet**: at least one series started with the 1-minute load average at or above $LOAD_MAX once the ${LOAD_WAIT_BUDGET}s waiting budget was spent (other builds running, and the tail of the previous series); the CPU-busy share sampled over 5 s before each series tells the two apart"
  fi
  for mode in $KEX_MODES; do
    echo
    case $mode in
      curve25519) echo "#### sshd \`KexAlgorithms curve25519-sha256\`" ;;
      limits) echo "#### sshd \`KexAlgorithms curve25519-sha256\` with the default \`MaxStartups 10:30:100\`, \`MaxSessions 10\`" ;;
      *) echo "#### sshd with OpenSSH's default key exchange" ;;
    esac
    echo
    printf 'kex negotiated:'
    for tool in $TOOLS; do printf ' %s `%s`;' "$tool" "${KEX_OF[$mode,$tool]:-?}"; done
    echo
    echo
    echo "| N | tool | wall s | client CPU s (user+sys) | peak RSS MiB | sshd CPU s | runs ok | before the series: load1 · CPU busy |"
    echo "|---:|---|---:|---:|---:|---:|---:|---|"
    for n in "${SIZES[@]}"; do
      for tool in $TOOLS; do
        rows=$(awk -F'\t' -v m="$mode" -v n="$n" -v t="$tool" '$1 == m && $2 == n && $3 == t' "$RUNS_TSV")
        total=$(grep -c . <<<"$rows")
        okrows=$(awk -F'\t' '$5 == "ok"' <<<"$rows")
        okc=$(grep -c . <<<"$okrows")
        if ((okc == total && total > 0)); then
          wall=$(cut -f6 <<<"$okrows" | median)
          cpu=$(awk -F'\t' '{print $7 + $8}' <<<"$okrows" | median)
          rss=$(awk -F'\t' '{printf "%.1f\n", $9 / 1024}' <<<"$okrows" | median)
          scpu=$(cut -f10 <<<"$okrows" | median)
          printf '| %s | %s | %.2f | %.2f | %.1f | %.2f | %s/%s | %s |\n' "$n" "$tool" "$wall" "$cpu" "$rss" "$scpu" "$okc" "$total" "${SERIES_LOAD[$mode,$n]}"
        else
          printf '| %s | %s | **failed** | | | | %s/%s | %s |\n' "$n" "$tool" "$okc" "$total" "${SERIES_LOAD[$mode,$n]}"
        fi
      done
    done
  done
  failures=$(awk -F'\t' 'NR > 1 && $5 != "ok" {printf "- %s N=%s %s run %s: %s\n", $1, $2, $3, $4, $12}' "$RUNS_TSV")
  if [[ -n $failures ]]; then
    echo
    echo "Failed runs (not timed):"
    echo
    echo "$failures"
  fi
} >"$REPORT"
log "report: $REPORT (raw runs: $RUNS_TSV, outputs: $WORK/out)"
cat "$REPORT"
