#!/bin/sh
# `cygnet daemon` as the container's main process (exec: it gets SIGTERM and deletes its SAs on `docker stop`).
# Default TUN cyg0; more flags (--debug, --settings, ...) come from the container's command line.
cd /opt/cygnet
exec node --import tsx src/cli/main.ts daemon --config /etc/swanctl/swanctl.conf --tun cyg0 "$@"
