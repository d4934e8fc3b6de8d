# syntax=docker/dockerfile:1
# The portal in a container: built in one stage, run from a slim one as a
# non-root user with a read-only root filesystem; all state lives on /data.
#   docker build -t oci-portal .
#   docker run --read-only --tmpfs /tmp -v portal-data:/data -p 8080:8080 \
#     -e PORTAL_BIND=0.0.0.0:8080 oci-portal
# deploy/compose.yaml runs it with PostgreSQL and nginx. deploy/README.md says
# what CI verifies without a container engine.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# --locked: exactly Cargo.lock's versions. Only the portal binary is built
# (the test-only crates stay out of it, as .ci/run checks).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p portal \
 && install -D -m 0755 target/release/portal /out/portal

FROM debian:bookworm-slim AS runtime
# CA certificates: TLS to OCI, model providers, webhooks and PostgreSQL (sslrootcert=system).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 portal \
 && useradd --system --uid 10001 --gid portal --home-dir /data --shell /usr/sbin/nologin portal \
 && install -d -o portal -g portal -m 0700 /data
COPY --from=build /out/portal /usr/local/bin/portal

# The data directory (SQLite, the development secret, emulator state) is the
# only place the portal writes; the root filesystem can be mounted read-only.
ENV PORTAL_DATA_DIR=/data \
    PORTAL_BIND=0.0.0.0:8080 \
    PORTAL_LOG_FORMAT=json
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8080

# `portal healthz` asks /healthz on PORTAL_BIND: no curl or shell in the image.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/portal", "healthz"]
# SIGTERM drains: in-flight requests finish and streams close within
# PORTAL_SHUTDOWN_GRACE_SECS (10 s); give the container longer (compose: stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/portal"]
CMD ["serve"]
