#!/bin/sh
# Bundles one service and its workspace packages (TypeScript sources) into a single ESM file,
# laid out as the image's /app:
#   <out-dir>/dist/main.js (+ .map)   the service and every dependency
#   <out-dir>/migrations/             data the service reads at run time relative to src/
#                                      (sink: `new URL('../migrations/', import.meta.url)`)
#   deploy/docker/bundle.sh <ingest-api|query-api|sink|sealer> <out-dir>
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

# Directories beside src/ that the code opens through import.meta.url (see the header).
# test/deploy/compose.test.ts fails when a service references one that is not listed here.
for dir in migrations; do
  if [ -d "services/${service}/${dir}" ]; then
    cp -R "services/${service}/${dir}" "${out}/${dir}"
  fi
done
