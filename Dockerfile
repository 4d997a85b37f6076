# Build stage: compile setd on Debian 12.
FROM debian:bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make libboost-dev libspdlog-dev libxxhash-dev liblzf-dev libssl-dev \
      liblua5.1-0-dev lua-cjson-dev lua-bitop-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY include ./include
COPY src ./src
COPY conf ./conf
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSETD_BUILD_TESTS=OFF -DSETD_BUILD_BENCH=OFF \
    && cmake --build build -j"$(nproc)" --target setd \
    && strip build/bin/setd

# Runtime stage: the binary, its shared libraries and redis-cli for the health check.
FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libspdlog1.10 libxxhash0 liblzf1 libssl3 redis-tools \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /data --shell /usr/sbin/nologin setd \
    && mkdir -p /data /etc/setd && chown setd /data
COPY --from=build /src/build/bin/setd /usr/local/bin/setd
COPY conf/setd.conf /etc/setd/setd.conf
VOLUME /data
WORKDIR /data
USER setd
EXPOSE 6379
# Alive is alive: a server with a password answers NOAUTH.
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD redis-cli -p 6379 ping | grep -qE 'PONG|NOAUTH' || exit 1
# Data (dump.rdb, appendonlydir/) lives in the /data volume, as in the
# official redis image: `docker run -v setd-data:/data ...` keeps it across
# container restarts. Protected mode is off, as in the official image: a
# container's port is reachable only where it is published (-p), and the
# connections Docker forwards do not come from 127.0.0.1. Set a password
# with arguments after the image name: `docker run ... setd --requirepass s3cret`.
ENTRYPOINT ["setd", "/etc/setd/setd.conf", "--bind", "0.0.0.0", "--dir", "/data", "--protected-mode", "no"]
