#!/bin/sh
# charon in the foreground of the container; once its vici socket is up, load /etc/swanctl (connections that
# say start_action = start initiate then). SIGTERM is passed to charon, which deletes its SAs on the way out.
set -e
for d in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12; do
  mkdir -p "/etc/swanctl/$d" 2>/dev/null || true
done
/usr/lib/ipsec/charon &
pid=$!
trap 'kill -TERM $pid' TERM INT
i=0
while [ ! -S /var/run/charon.vici ]; do
  i=$((i + 1)); [ $i -le 100 ] || { echo "entrypoint: no vici socket after 10 s" >&2; exit 1; }
  kill -0 $pid || exit 1
  sleep 0.1
done
swanctl --load-all --noprompt
# wait returns early when the trap fires: keep waiting until charon is gone.
while kill -0 $pid 2>/dev/null; do wait $pid || true; done
