# A loopback OpenSSH "fleet" for benchmarks, to be sourced (bash): one private sshd on
# 127.0.0.1 (its own host key, a free port) serves every host; aliases h001..hN in a generated
# ssh_config point at it, each with its own HostKeyAlias and known_hosts entry (strict host key
# checking, batch mode, key auth only). Shared by scripts/bench-fanout.sh and
# scripts/bench-console.sh.
#
#   FLEET_DIR=/tmp/x; source scripts/lib-fleet.sh
#   fleet_setup 500                 # keys, port, $FLEET_CFG, $FLEET_KH (no daemon yet)
#   fleet_start_sshd curve25519     # default | curve25519 | limits (the caller traps EXIT
#                                   # and calls fleet_stop_sshd)
#   fleet_name 7 -> h007; fleet_nodeset 500 -> h[001-500]
#   fleet_fleetdeck_copy "$WORK"     # sets FD (a private copy of the binary) and FD_NOTE
#
# Sets FLEET_PORT, FLEET_CFG (ssh_config), FLEET_KH (known_hosts of the aliases),
# FLEET_KEY (client key), FLEET_HOSTKEY_PUB ("ssh-ed25519 AAAA..."), FLEET_SSHD_PID.
# Needs /usr/sbin/sshd, ssh-keygen. Everything stays under $FLEET_DIR; the sshd is ended by
# its pid only.

: "${FLEET_DIR:?set FLEET_DIR before sourcing lib-fleet.sh}"
FLEET_SSHD_PID=""
FLEET_W=3

fleet_name() { printf "h%0${FLEET_W}d" "$1"; }
fleet_nodeset() { printf "h[%0${FLEET_W}d-%0${FLEET_W}d]" 1 "$1"; }
fleet_port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

fleet_setup() { # MAXN
  local maxn=$1 p i h
  ((${#maxn} > 3)) && FLEET_W=${#maxn}
  mkdir -p "$FLEET_DIR/keys"
  local kd=$FLEET_DIR/keys
  [[ -f $kd/host_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C bench-host -f "$kd/host_ed25519" || return 1
  [[ -f $kd/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C bench-client -f "$kd/id_ed25519" || return 1
  chmod 600 "$kd/host_ed25519" "$kd/id_ed25519"
  cp "$kd/id_ed25519.pub" "$FLEET_DIR/authorized_keys"
  FLEET_KEY=$kd/id_ed25519
  FLEET_HOSTKEY_PUB=$(awk '{print $1" "$2}' "$kd/host_ed25519.pub")
  FLEET_PORT=""
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    if ! fleet_port_in_use "$p"; then FLEET_PORT=$p; break; fi
  done
  [[ -n $FLEET_PORT ]] || { echo "lib-fleet: no free port found" >&2; return 1; }
  FLEET_CFG=$FLEET_DIR/ssh_config
  FLEET_KH=$FLEET_DIR/known_hosts
  : >"$FLEET_CFG"; : >"$FLEET_KH"; : >"$FLEET_DIR/global_known_hosts"
  for i in $(seq 1 "$maxn"); do
    h=$(fleet_name "$i")
    printf 'Host %s\n  HostName 127.0.0.1\n  Port %s\n  HostKeyAlias %s\n' "$h" "$FLEET_PORT" "$h" >>"$FLEET_CFG"
    printf '%s %s\n' "$h" "$FLEET_HOSTKEY_PUB" >>"$FLEET_KH"
  done
  cat >>"$FLEET_CFG" <<EOF
Host *
  User $(id -un)
  IdentityFile $FLEET_KEY
  IdentitiesOnly yes
  UserKnownHostsFile $FLEET_KH
  GlobalKnownHostsFile $FLEET_DIR/global_known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 30
  ControlMaster no
  ControlPath none
  ForwardAgent no
  ForwardX11 no
  LogLevel ERROR
EOF
}

fleet_write_sshd_config() { # MODE LOGLEVEL
  local mode=$1 level=$2
  cat >"$FLEET_DIR/sshd_config" <<EOF
Port $FLEET_PORT
ListenAddress 127.0.0.1
HostKey $FLEET_DIR/keys/host_ed25519
PidFile $FLEET_DIR/sshd.pid
AuthorizedKeysFile $FLEET_DIR/authorized_keys
StrictModes no
UsePAM no
UseDNS no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PrintMotd no
PrintLastLog no
SetEnv SHLVL=1
LogLevel $level
EOF
  # "limits": OpenSSH's default MaxStartups 10:30:100 and MaxSessions 10.
  if [[ $mode != limits ]]; then printf 'MaxStartups 1000\nMaxSessions 64\n' >>"$FLEET_DIR/sshd_config"; fi
  case $mode in
    curve25519 | limits) echo "KexAlgorithms curve25519-sha256" >>"$FLEET_DIR/sshd_config" ;;
    default) ;;
    *) echo "lib-fleet: unknown server setting '$mode' (default, curve25519, limits)" >&2; return 1 ;;
  esac
  /usr/sbin/sshd -t -f "$FLEET_DIR/sshd_config" || { echo "lib-fleet: sshd rejects $FLEET_DIR/sshd_config" >&2; return 1; }
}

fleet_stop_sshd() {
  if [[ -n $FLEET_SSHD_PID ]] && kill -0 "$FLEET_SSHD_PID" 2>/dev/null; then
    kill "$FLEET_SSHD_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$FLEET_SSHD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$FLEET_SSHD_PID" 2>/dev/null && kill -9 "$FLEET_SSHD_PID" 2>/dev/null
    wait "$FLEET_SSHD_PID" 2>/dev/null
  fi
  FLEET_SSHD_PID=""
}

fleet_start_sshd() { # MODE [LOGLEVEL] [LOGFILE]
  local mode=$1 level=${2:-ERROR} logf=${3:-$FLEET_DIR/sshd.log}
  fleet_stop_sshd
  mkdir -p /run/sshd 2>/dev/null || true
  fleet_write_sshd_config "$mode" "$level" || return 1
  : >"$logf"
  /usr/sbin/sshd -D -f "$FLEET_DIR/sshd_config" -E "$logf" &
  FLEET_SSHD_PID=$!
  for _ in $(seq 100); do
    fleet_port_in_use "$FLEET_PORT" && return 0
    kill -0 "$FLEET_SSHD_PID" 2>/dev/null || { cat "$logf" >&2; echo "lib-fleet: sshd exited at start" >&2; return 1; }
    sleep 0.1
  done
  echo "lib-fleet: sshd does not listen on 127.0.0.1:$FLEET_PORT" >&2
  return 1
}

# A private copy of the fleetdeck binary at WORK/bin/fleetdeck, so a rebuild by someone else
# during a benchmark does not swap it: FLEETDECK_BIN if set, else `cargo build --release
# --locked` (log in WORK/build.log). Run from the repository root. Sets FD (the copy) and
# FD_NOTE (the commit, plus how many files of src and Cargo.* are uncommitted).
fleet_fleetdeck_copy() { # WORK
  local work=$1 bin=${FLEETDECK_BIN:-} dirty
  if [[ -z $bin ]]; then
    if ! cargo build --release --locked >"$work/build.log" 2>&1; then
      tail -30 "$work/build.log" >&2
      echo "lib-fleet: cargo build --release failed (log: $work/build.log)" >&2
      return 1
    fi
    bin=$PWD/target/release/fleetdeck
  fi
  [[ -x $bin ]] || { echo "lib-fleet: no fleetdeck binary at $bin" >&2; return 1; }
  mkdir -p "$work/bin" && cp "$bin" "$work/bin/fleetdeck" || return 1
  FD=$work/bin/fleetdeck
  FD_NOTE=$(git rev-parse --short HEAD 2>/dev/null)
  dirty=$(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null | grep -c .)
  ((dirty > 0)) && FD_NOTE+=" + uncommitted changes in $dirty files"
  return 0
}
