# signalbox container image: production dependencies only, non-root, TypeScript run natively by
# Node.js 24 (type stripping), so there is no build step beyond installing dependencies.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json .node-version ./
COPY bin ./bin
COPY src ./src
USER node
EXPOSE 8080 8443 9901
ENTRYPOINT ["node", "--no-node-snapshot", "/app/bin/signalbox.js"]
CMD ["serve", "--manifests", "/etc/signalbox/manifests"]
