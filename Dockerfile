# The application image for docker-compose.yml: the TypeScript sources run through tsx, no build step.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY bin ./bin
COPY schema/prisma ./schema/prisma
RUN npm ci --omit=dev
COPY . .
# IL_CACHE_DIR in docker-compose.yml: the ledger's signing key, service keys and analyst tokens (a named volume
# takes this directory's owner on first use).
RUN mkdir -p /var/lib/intent-ledger && chown node:node /var/lib/intent-ledger
USER node
ENTRYPOINT []
