#!/usr/bin/env bash
# The whole test suite, with its own setup: installs what the tests need on a fresh Debian
# machine (OpenSSH server and client, tmux, Prometheus node_exporter and Alertmanager), then
# checks formatting and lints, then runs every test. Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
[[ -x /usr/bin/prometheus-node-exporter ]] || need+=(prometheus-node-exporter)
[[ -x /usr/bin/prometheus-alertmanager ]] || need+=(prometheus-alertmanager)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "scripts/test.sh: please install: ${need[*]} (sudo apt-get install -y ${need[*]})" >&2
    exit 2
  fi
  echo "scripts/test.sh: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# sshd's privilege separation folder; the test harness starts private sshd instances.
mkdir -p /run/sshd 2>/dev/null || true

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
