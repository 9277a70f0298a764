# syntax=docker/dockerfile:1
#
# Tierline's container image: one image for every process role (`start`, `serve`, `worker`,
# `migrate`, `catch-up`, `admin create`, `runtime`). See docs/deployment.md.
#
#   docker build -t tierline .
#   docker run -p 8080:8080 -v tierline-data:/var/lib/tierline tierline            # embedded database
#   docker run -e DATABASE_URL=postgres://… tierline serve                          # API and pages only
#
# The server runs its TypeScript sources directly (Node 24 strips the types), so src/ is not
# compiled: the image holds the sources, the production dependencies and the built web pages.

ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: every dependency, to build the web pages (Vite, React, Mantine are dev dependencies) ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` dev dependency pins Node for npm scripts on developers' machines; here it only runs the
# web build. The runtime stage below does not install it: its Node is the base image's.
RUN npm ci --no-audit --no-fund
COPY web ./web
RUN npm run build:web

# --- runtime: production dependencies, the sources, the catalog and the built pages ---
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    TIERLINE_DATA_DIR=/var/lib/tierline \
    PORT=8080 \
    HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY src ./src
COPY config ./config
COPY --from=build /app/web/dist ./web/dist
# The application files stay root's and read-only to the process; only the data directory is its own.
RUN mkdir -p /var/lib/tierline && chown node:node /var/lib/tierline
USER node
# The embedded database (when DATABASE_URL is unset) and the reference runtime's spool, if run here.
VOLUME ["/var/lib/tierline"]
EXPOSE 8080
# Liveness only; load balancers should also use /readyz (the database is reachable). A `worker` or
# `migrate` container has no HTTP server: disable this check for them (see docs/deployment.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: stop taking requests and work, finish those in hand (30 s at most), exit. Give the
# container more than 30 s to stop (`docker stop -t 40`, compose `stop_grace_period: 40s`).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--no-maglev", "src/cli.ts"]
CMD ["start"]
