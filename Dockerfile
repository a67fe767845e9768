# signalbox container image: `signalbox controller` on Node.js 24, production dependencies only, as a
# fixed non-root user. Node.js runs the TypeScript sources natively (type stripping), so there is no
# build step beyond installing dependencies. The Node.js version is the one in .node-version (a test
# keeps the two equal).
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# isolated-vm ships prebuilt binaries for Node 24 on glibc (x64 and arm64), so no compiler is needed;
# --ignore-scripts would skip the step that picks the prebuilt one.
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
 && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the process: with readOnlyRootFilesystem nothing is written anyway.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json .node-version ./
COPY bin ./bin
COPY src ./src
# Numeric, so that the kubelet can check runAsNonRoot; the chart runs the pod as the same uid.
USER 10001:10001
EXPOSE 8080 8443 9901
# --no-node-snapshot is what isolated-vm needs; given here, bin/signalbox.js runs the command in this
# process instead of starting a second node.
ENTRYPOINT ["node", "--no-node-snapshot", "bin/signalbox.js", "controller"]
