# syntax=docker/dockerfile:1
# netsec in a container: `netsec serve` on 0.0.0.0:8000 over a copy of this repository
# (pipeline.toml, schema.yaml, data/), so POST /train runs the real pipeline inside the image.
#
#   docker build -t netsec .
#   docker run --rm -p 127.0.0.1:8000:8000 netsec
#
# Stage 1 builds the release binary; stage 2 is a slim Debian runtime with only the binary,
# the repository files the pipeline needs, and a non-root user.

ARG RUST_VERSION=1.89
FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
COPY . .
# Cache mounts keep the registry and target directory between builds (BuildKit).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p netsec --bin netsec \
 && install -Dm755 target/release/netsec /out/netsec

FROM debian:bookworm-slim AS runtime
# ca-certificates: HTTPS to S3 remotes / MongoDB Atlas; curl: the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 netsec
COPY --from=build /out/netsec /usr/local/bin/netsec
WORKDIR /repo
COPY --chown=netsec:netsec pipeline.toml schema.yaml .dvcignore netsec.lock* ./
COPY --chown=netsec:netsec data/ data/
COPY --chown=netsec:netsec artifacts/ artifacts/
# final_model/ (the served bundle) is created by training; mount a volume there to keep it.
RUN mkdir -p final_model .netsec && chown -R netsec:netsec /repo
USER netsec
ENV RUST_LOG=info
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s \
  CMD curl -fsS http://127.0.0.1:8000/health || exit 1
ENTRYPOINT ["netsec"]
CMD ["serve", "--addr", "0.0.0.0:8000"]
