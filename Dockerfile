# kubetune operator image (ghcr.io/kubetune/operator). Build from the repository root:
#   docker build -t ghcr.io/kubetune/operator:0.1.0 .
# The entrypoint runs `node dist/main.js`, which is `kubetune operator`; the Helm chart passes
# only args. test/unit/deploy/dockerfile.test.ts checks this file statically.

# --- build: compile TypeScript, then drop dev dependencies ---
FROM node:20-slim AS build
WORKDIR /app
# Manifests first so the dependency layer is cached across source edits.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# --- runtime: no shell, no package manager, non-root ---
FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
# package.json carries "type": "module", without which Node cannot load dist/*.js.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# 65532 is distroless's "nonroot"; numeric so runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/nodejs/bin/node", "dist/main.js"]
