# syntax=docker/dockerfile:1
# RecoMart Ingest: one image for every service (worker, scheduler, audit, board, mock API).

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.build.json ./
COPY packages ./packages
COPY apps ./apps
COPY bin ./bin
# npm ci runs "prepare", which builds every package (tsc -b).
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/packages ./packages
COPY --from=build --chown=node:node /app/apps ./apps
COPY --from=build --chown=node:node /app/bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# A 4 MB young generation (V8 default: up to 16 MB a semi-space): streamed files are collected sooner; the 1 GB day into
# S3 peaks ~150 MB RSS instead of ~190 (docs/architecture.md, "The lake in a bucket").
ENTRYPOINT ["node", "--max-semi-space-size=4", "/app/bin/recomart.js"]
CMD ["--help"]
