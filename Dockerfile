# One image for every Baton process: `docker compose up` runs the webserver, the daemon and the
# run workers from it (see docker-compose.yml). The definitions are the NYC taxi example unless
# BATON_DEFS points elsewhere (mount your project and set it).
FROM node:22-bookworm-slim
WORKDIR /app
COPY . .
# npm ci builds the workspaces (the root `prepare` script, with the dev toolchain) and fetches the
# native SQLite/DuckDB builds.
RUN npm ci --no-audit --no-fund && npm cache clean --force
ENV NODE_ENV=production \
    BATON_DEFS=/app/examples/nyc_taxi/definitions.ts \
    TAXI_LANDING=/data/landing \
    TAXI_WAREHOUSE=/data/warehouse.duckdb \
    BATON_HOME=/data/baton
ENTRYPOINT ["node", "/app/packages/core/bin/baton.js"]
CMD ["--help"]
