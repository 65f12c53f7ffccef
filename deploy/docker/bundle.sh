#!/bin/sh
# Bundles one service and its workspace packages (TypeScript sources) into a single ESM file,
# laid out as the image's /app:
#   <out-dir>/dist/main.js (+ .map)   the service and every dependency
#   <out-dir>/migrations/             data the service reads at run time relative to its source
#                                      (sink: @audit/clickhouse's `new URL('../migrations/', import.meta.url)`,
#                                      which in the bundle resolves beside dist/)
#   deploy/docker/bundle.sh <ingest-api|query-api|sink|sealer|streamer> <out-dir>
# Runs in the image build (deploy/docker/Dockerfile) and on a workstation, from the repo root.
# ESBUILD overrides the esbuild binary (default: the one on PATH).
set -eu
service="${1:?usage: bundle.sh <service> <out-dir>}"
out="${2:?usage: bundle.sh <service> <out-dir>}"
entry="services/${service}/src/main.ts"
[ -f "$entry" ] || { echo "bundle.sh: no $entry" >&2; exit 1; }

# CommonJS dependencies (kafkajs, prom-client, pino …) call require() for Node built-ins, which an
# ESM bundle lacks; the banner gives the bundle a real `require`. Only `require` is defined there:
# a banner `__dirname` would collide with any module that declares its own.
"${ESBUILD:-esbuild}" "$entry" \
  --bundle \
  --platform=node \
  --target=node20 \
  --format=esm \
  --sourcemap \
  --legal-comments=none \
  --log-level=warning \
  --outfile="${out}/dist/main.js" \
  "--banner:js=import { createRequire as __auditCreateRequire } from 'node:module'; const require = __auditCreateRequire(import.meta.url);"

# Directories beside src/ that the code opens through import.meta.url (see the header), as
# <service>:<package directory>:<name>. test/deploy/compose.test.ts fails when code references one
# that is not listed here.
# The query API serves the web viewer (packages/viewer, built by Vite into web/).
if [ "$service" = query-api ]; then
  pnpm --filter @audit/viewer exec vite build --logLevel warn
fi
for entry in sink:packages/clickhouse:migrations query-api:packages/viewer:web; do
  owner="${entry%%:*}"; rest="${entry#*:}"; from="${rest%%:*}"; dir="${rest#*:}"
  if [ "$owner" = "$service" ]; then
    cp -R "${from}/${dir}" "${out}/${dir}"
  fi
done
# Both APIs serve the interactive reference (/docs): Swagger UI's two files, which
# packages/http finds at ../swagger-ui/ beside the bundle.
case "$service" in ingest-api | query-api)
  mkdir -p "${out}/swagger-ui"
  cp packages/http/node_modules/swagger-ui-dist/swagger-ui.css packages/http/node_modules/swagger-ui-dist/swagger-ui-bundle.js "${out}/swagger-ui/"
  ;;
esac
