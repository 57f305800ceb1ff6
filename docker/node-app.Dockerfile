# One image for both Node apps (consent-api, projector); the compose file picks the entry point.
# Not built or run on the development machines (no Docker there): see the note in docker-compose.yml.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native module when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY catalogues ./catalogues
RUN mkdir -p /app/data && chown node:node /app/data
USER node
# Overridden per service: dist/apps/consent-api/src/main.js or dist/apps/projector/src/main.js.
CMD ["node", "dist/apps/consent-api/src/main.js"]
