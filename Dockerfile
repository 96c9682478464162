# Guichet in a container. The build needs a C compiler, perl and make (all in the rust image):
# SQLite, libpq and the OpenSSL libpq uses for TLS are compiled from source into the binary, so
# the runtime image needs no database client or TLS libraries.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && install -m 0755 target/release/guichet /usr/local/bin/guichet

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin guichet \
    && mkdir -p /data \
    && chown guichet:guichet /data
COPY --from=builder /usr/local/bin/guichet /usr/local/bin/guichet
USER guichet
# Without GUICHET_DATABASE_URL, the SQLite database is /data/guichet.db: mount a volume there.
WORKDIR /data
ENV GUICHET_BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/health/ready || exit 1
ENTRYPOINT ["guichet"]
CMD ["serve"]
