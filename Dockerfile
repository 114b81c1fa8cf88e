# The Lago service as a container: built in a Rust image, run from a slim Debian one as a
# non-root user. Build from the repository root:
#
#   docker build -t lago-customers .
#   docker run --rm -p 8080:8080 -p 9090:9090 -p 9100:9100 -e LAGO_API_KEY=... lago-customers
#
# `--sandbox` as the last argument serves against the in-memory Lago stand-in instead.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p lago-customers \
 && cp target/release/lago-customers /usr/local/bin/lago-customers

FROM debian:bookworm-slim
# CA certificates for HTTPS to Lago; nothing else is needed at run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home lago
COPY --from=build /usr/local/bin/lago-customers /usr/local/bin/lago-customers
USER 10001
# REST, MCP (Streamable HTTP at /mcp), control port (health, readiness, status, metrics).
EXPOSE 8080 9090 9100
ENTRYPOINT ["lago-customers", "serve", \
  "--rest-addr", "0.0.0.0:8080", "--mcp-addr", "0.0.0.0:9090", "--control-addr", "0.0.0.0:9100", \
  "--log-format", "json"]
