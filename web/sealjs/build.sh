#!/bin/sh
# Rebuilds web/static/seal.js, the age-encryption bundle the offline intake
# seals with, from entry.js and the versions package-lock.json pins, and
# records what it was built from in bundle.sum (TestSealBundleCurrent
# checks both). Needs node and npm: cd web/sealjs && ./build.sh
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
./node_modules/@esbuild/linux-x64/bin/esbuild entry.js --bundle --format=iife --global-name=RemedySeal --minify \
	--legal-comments=eof --target=es2020 --outfile=../static/seal.js
cat entry.js package-lock.json | sha256sum | cut -d' ' -f1 > bundle.sum
