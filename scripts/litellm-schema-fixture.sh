#!/usr/bin/env bash
# Regenerates Tests/Fixtures/litellm-proxy-extras-0.4.110-schema.sql: LiteLLM's own PostgreSQL
# schema, as the Prisma migrations of the litellm-proxy-extras package (MIT, BerriAI) that
# litellm 1.108.7 pins create it, concatenated in migration order. The import tests apply it to
# a fresh schema and write rows into it as LiteLLM does.
#   scripts/litellm-schema-fixture.sh [DIR]
# DIR is an unpacked litellm_proxy_extras-0.4.110 wheel (`pip download litellm-proxy-extras==0.4.110
# --no-deps` and unzip it); without DIR the wheel is downloaded into a temporary directory.
set -euo pipefail

version=0.4.110
out="$(cd "$(dirname "$0")/.." && pwd)/Tests/Fixtures/litellm-proxy-extras-$version-schema.sql"
dir="${1:-}"
if [ -z "$dir" ]; then
  dir="$(mktemp -d)"
  trap 'rm -rf "$dir"' EXIT
  python3 -m pip download --quiet --no-deps --dest "$dir" "litellm-proxy-extras==$version"
  (cd "$dir" && python3 -m zipfile -e ./*.whl .)
fi
migrations="$dir/litellm_proxy_extras/migrations"
[ -d "$migrations" ] || { echo "no $migrations" >&2; exit 1; }

{
  echo "-- LiteLLM's PostgreSQL schema: the Prisma migrations of litellm-proxy-extras $version"
  echo "-- (the version litellm 1.108.7 pins), concatenated in order by scripts/litellm-schema-fixture.sh."
  echo "-- Copyright (c) 2023 Berri AI; MIT licence (https://github.com/BerriAI/litellm/blob/main/LICENSE)."
  echo "-- Do not edit: regenerate with the script."
  # Directory names start with a timestamp, so the glob's order is Prisma's order.
  for file in "$migrations"/*/migration.sql; do
    echo
    echo "-- migration $(basename "$(dirname "$file")")"
    cat "$file"
    # A file whose last line has no newline would run into the next header.
    if [ -n "$(tail -c 1 "$file")" ]; then echo; fi
  done
} > "$out"
echo "wrote $out"
