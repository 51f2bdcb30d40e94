# What cygnet runs on, rebuilt only when it changes (docker/build.sh assembles the context and appends a
# cygnet.deps label): `node`, the host's node 20 binary (Debian bookworm packages node 18, below cygnet's
# engines >= 20; the host runs the same bookworm, so its glibc and libstdc++ match), and the runtime
# node_modules (including tsx, which runs the sources).
FROM local/debian:bookworm
# Marks what docker/build.sh made (inherited by local/cygnet), so that it prunes only its own superseded images.
LABEL cygnet.build=docker/build.sh
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iproute2 iputils-ping >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY node /usr/local/bin/node
COPY node_modules /opt/cygnet/node_modules
