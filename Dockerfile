# syntax=docker/dockerfile:1
# Multi-stage: a release build, then a slim runtime with ca-certificates as a non-root user.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && cp target/release/switchyard /usr/local/bin/switchyard

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin switchyard \
    && mkdir -p /data && chown switchyard:switchyard /data
COPY --from=build /usr/local/bin/switchyard /usr/local/bin/switchyard
USER switchyard
WORKDIR /data
VOLUME ["/data"]
ENV SWITCHYARD_LISTEN=0.0.0.0:8080 \
    SWITCHYARD_DATABASE=sqlite:///data/switchyard.db
EXPOSE 8080
ENTRYPOINT ["switchyard"]
CMD ["serve"]
