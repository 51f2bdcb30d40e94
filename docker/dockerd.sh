#!/usr/bin/env bash
# Start or stop a hand-started dockerd (no systemd here: Debian's service start is refused) and undo what it
# changed on the host when it stops. Idempotent.
#
#   docker/dockerd.sh start   # prints "dockerd: already running" or "dockerd: started (pid N)"
#   docker/dockerd.sh stop    # stops only a dockerd this script started; removes the nft tables it created,
#                             # restores net.ipv4.ip_forward, deletes docker0 if it was not there before
#
# Why the cleanup: dockerd sets ip_forward = 1 (inherited by every network namespace created afterwards) and
# creates `ip nat`/`ip filter` tables (iptables-nft) whose FORWARD chain has policy DROP. The interop suite's
# namespaces must see the host as it was. State lives in $STATE (pid, tables and sysctl before the start).
set -euo pipefail
STATE=${CYGNET_DOCKERD_STATE:-/run/cygnet-dockerd}
LOG=${CYGNET_DOCKERD_LOG:-/var/log/cygnet-dockerd.log}

running() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

tables() { nft list tables 2>/dev/null | sort || true; }

start() {
  if running; then echo "dockerd: already running"; return 0; fi
  command -v dockerd >/dev/null || { echo "dockerd: not installed (apt-get install -y docker.io)" >&2; exit 1; }
  if [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; then
    echo "dockerd: pid $(cat "$STATE/pid") from an earlier start is alive but not answering; see $LOG" >&2; exit 1
  fi
  mkdir -p "$STATE"
  # Keep the snapshot of a previous start whose stop never ran: it is the host as it was before any dockerd.
  if [ ! -f "$STATE/tables" ]; then
    tables >"$STATE/tables"
    sysctl -n net.ipv4.ip_forward >"$STATE/ip_forward"
    if ip link show docker0 >/dev/null 2>&1; then echo yes; else echo no; fi >"$STATE/docker0"
  fi
  setsid dockerd >>"$LOG" 2>&1 </dev/null &
  echo $! >"$STATE/pid"
  for _ in $(seq 1 150); do
    if running; then echo "dockerd: started (pid $(cat "$STATE/pid"), log $LOG)"; return 0; fi
    kill -0 "$(cat "$STATE/pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "dockerd: did not come up within 30 s; last lines of $LOG:" >&2
  tail -n 20 "$LOG" >&2
  exit 1
}

stop() {
  if [ ! -f "$STATE/pid" ]; then echo "dockerd: not started by this script; left alone"; return 0; fi
  pid=$(cat "$STATE/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then echo "dockerd: pid $pid ignored SIGTERM for 20 s; SIGKILL" >&2; kill -KILL "$pid" || true; fi
  fi
  # Tables dockerd created (present now, absent before the start): delete them whole.
  comm -13 "$STATE/tables" <(tables) | while read -r _ family name; do
    [ -n "${name:-}" ] && nft delete table "$family" "$name" && echo "dockerd: removed nft table $family $name"
  done
  want=$(cat "$STATE/ip_forward")
  if [ "$(sysctl -n net.ipv4.ip_forward)" != "$want" ]; then
    sysctl -qw "net.ipv4.ip_forward=$want" && echo "dockerd: net.ipv4.ip_forward restored to $want"
  fi
  if [ "$(cat "$STATE/docker0")" = no ] && ip link show docker0 >/dev/null 2>&1; then
    ip link delete docker0 && echo "dockerd: removed docker0"
  fi
  rm -rf "$STATE"
  echo "dockerd: stopped (pid $pid)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "dockerd: running"; else echo "dockerd: not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
