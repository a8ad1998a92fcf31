# One image for both gateway roles; the compose file picks the entry point.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY common ./common
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY api ./api
COPY client ./client
COPY config ./config
COPY tsconfig.json ./
USER node
CMD ["node", "--import", "tsx", "worker/main.ts"]
