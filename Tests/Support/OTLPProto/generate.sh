#!/usr/bin/env bash
# Regenerates Tests/Support/OTLPProto/Generated from the .proto files beside this script.
# Run by hand after editing a .proto; the output is committed and never generated during a build.
# Only tests use these types (to decode what the hand-written OTLP encoder sends); the shipped
# exporter does not depend on SwiftProtobuf.
# Needs protoc (Debian: protobuf-compiler) and builds protoc-gen-swift at the same tag as the
# SwiftProtobuf the package resolves, because generated code checks that runtime's API version.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
version="${SWIFT_PROTOBUF_VERSION:-1.39.0}"
work="${TMPDIR:-/tmp}/spanway-protoc-gen-swift-$version"
command -v protoc >/dev/null || { echo "protoc missing: apt-get install -y protobuf-compiler" >&2; exit 1; }
if [ ! -d "$work" ]; then
  git -c advice.detachedHead=false clone -q --branch "$version" --depth 1 https://github.com/apple/swift-protobuf.git "$work"
fi
(cd "$work" && swift build -c release --product protoc-gen-swift --disable-default-traits >/dev/null)
plugin="$(cd "$work" && swift build -c release --disable-default-traits --show-bin-path)/protoc-gen-swift"
rm -f "$here"/Generated/*.pb.swift
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_out="$here/Generated" --swift_opt=Visibility=Internal --swift_opt=FileNaming=PathToUnderscores \
  -I "$here/proto" \
  opentelemetry/proto/common/v1/common.proto \
  opentelemetry/proto/resource/v1/resource.proto \
  opentelemetry/proto/trace/v1/trace.proto \
  opentelemetry/proto/collector/trace/v1/trace_service.proto
echo "generated into ${here#"$root"/}/Generated"
