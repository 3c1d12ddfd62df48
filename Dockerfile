# One image for every Baton process: `docker compose up` runs the webserver, the daemon and the
# run workers from it (see docker-compose.yml). The definitions are the NYC taxi example unless
# BATON_DEFS points elsewhere (mount your project and set it).
#
# Stages: `build` compiles core, webserver and UI with the dev toolchain; `prod-deps` installs the
# production dependencies only; `runtime` holds those, the built packages, the built UI and the
# example, and runs as the non-root user `baton` (uid 10001), which owns /data.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY . .
# npm ci builds the workspaces (the root `prepare` script, with the dev toolchain).
RUN npm ci --no-audit --no-fund

FROM node:22-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/core/package.json packages/core/
COPY packages/webserver/package.json packages/webserver/
COPY packages/ui/package.json packages/ui/
COPY examples/nyc_taxi/package.json examples/nyc_taxi/
# --ignore-scripts skips the root `prepare` (a build that needs the dev toolchain); the native
# modules' install scripts run by `npm rebuild` (better-sqlite3; esbuild, which tsx uses to load
# .ts definitions). DuckDB's binary is a platform package and needs no script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 esbuild \
 && npm cache clean --force

FROM node:22-bookworm-slim AS runtime
WORKDIR /app
# python3: the example's taxi/quality_report step is a Python script run through pipes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 baton \
 && useradd --system --uid 10001 --gid baton --home-dir /data --shell /usr/sbin/nologin baton \
 && mkdir -p /data && chown baton:baton /data
COPY --from=prod-deps /app/package.json /app/package-lock.json ./
COPY --from=build /app/tsconfig.base.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/packages/core/package.json packages/core/
COPY --from=build /app/packages/core/bin packages/core/bin
COPY --from=build /app/packages/core/dist packages/core/dist
COPY --from=build /app/packages/core/templates packages/core/templates
COPY --from=build /app/packages/core/pipes packages/core/pipes
COPY --from=build /app/packages/webserver/package.json packages/webserver/
COPY --from=build /app/packages/webserver/dist packages/webserver/dist
COPY --from=build /app/packages/ui/package.json packages/ui/
COPY --from=build /app/packages/ui/dist packages/ui/dist
COPY --from=build /app/examples/nyc_taxi/package.json /app/examples/nyc_taxi/definitions.ts /app/examples/nyc_taxi/tsconfig.json examples/nyc_taxi/
COPY --from=build /app/examples/nyc_taxi/src examples/nyc_taxi/src
COPY --from=build /app/examples/nyc_taxi/data examples/nyc_taxi/data
COPY --from=build /app/examples/nyc_taxi/models examples/nyc_taxi/models
COPY --from=build /app/examples/nyc_taxi/python examples/nyc_taxi/python
COPY --from=build /app/docker/healthcheck.mjs docker/healthcheck.mjs
ENV NODE_ENV=production \
    BATON_DEFS=/app/examples/nyc_taxi/definitions.ts \
    BATON_UI_DIR=/app/packages/ui/dist \
    TAXI_LANDING=/data/landing \
    TAXI_WAREHOUSE=/data/warehouse.duckdb \
    BATON_HOME=/data/baton
USER baton
VOLUME /data
EXPOSE 3000
# One check for all three commands: it reads which one this container runs (docker/healthcheck.mjs).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/docker/healthcheck.mjs"]
ENTRYPOINT ["node", "/app/packages/core/bin/baton.js"]
CMD ["--help"]
