# edgebench in a Debian 12 container: `docker build -t edgebench .` then
# `docker run --rm -v "$PWD/results:/src/results" edgebench run scenarios/edge.yaml`.
# The netem link backend needs `--cap-add NET_ADMIN` (and a host kernel with sch_netem);
# without it `network.backend: auto` uses the userspace proxy.
FROM debian:12
WORKDIR /src
COPY . /src
RUN scripts/setup.sh && rm -rf /var/lib/apt/lists/*
ENTRYPOINT ["/src/build/edgebench"]
CMD ["--help"]
