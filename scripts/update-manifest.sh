#!/usr/bin/env bash
# Regenerates aspire-manifest.json from the AppHost's distributed topology. A test fails while it is stale.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dotnet build "$root/AppHost" -v q -nologo >/dev/null
dotnet run --project "$root/AppHost" --no-build --launch-profile http -- \
  --publisher manifest --output-path "$root/aspire-manifest.json" >/dev/null
echo "Wrote $root/aspire-manifest.json"
