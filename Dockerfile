# The application image for docker-compose.yml: the TypeScript sources run through tsx, no build step.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY bin ./bin
COPY schema/prisma ./schema/prisma
RUN npm ci --omit=dev
COPY . .
USER node
ENTRYPOINT []
