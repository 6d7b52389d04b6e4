#!/usr/bin/env bash
# Gateway overhead: p50/p99 latency and throughput of one backend endpoint called directly and through the
# gateway, at fixed concurrency on loopback, all in one run so the ratios compare like with like.
#
#   benchmarks/gateway-overhead.sh
#   THREADS=2 CONNECTIONS=16 DURATION=20s WARMUP=10s benchmarks/gateway-overhead.sh
#   BENCH_REDIS=127.0.0.1:56379 benchmarks/gateway-overhead.sh   # adds a run with rate limits in Redis
#
# Scenarios (the backend, benchmarks/gateway-overhead-backend.cs, answers each with the same small JSON):
#   direct           GET backend /api/bench
#   gateway-public   GET gateway /api/version   proxying only: anonymous route, no rate limit
#   gateway-jwt      GET gateway /api/bench     + JWT validation (RS256, JWKS) + per-tenant and per-client
#                                               token buckets (in-memory counters) + header transforms
#   gateway-api-key  GET gateway /api/bench     as gateway-jwt, with an API key exchanged once and cached
#   gateway-jwt-redis (BENCH_REDIS set)         as gateway-jwt, token buckets in Redis (two round trips)
# The buckets are sized so nothing is refused: the cost of checking them is measured, not of refusing.
# Needs the .NET SDK, wrk (apt-get install -y wrk; installed here when run as root) and curl.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
threads=${THREADS:-2}
connections=${CONNECTIONS:-16}
duration=${DURATION:-20s}
warmup=${WARMUP:-10s}
backend_port=${BACKEND_PORT:-18081}
gateway_port=${GATEWAY_PORT:-18080}
redis_gateway_port=${REDIS_GATEWAY_PORT:-18082}
issuer=http://bench.test
api_key=apk_bench_0123456789abcdef

# shellcheck source=benchmarks/lib.sh
source "$root/benchmarks/lib.sh"

start_gateway() { # port [extra env...]
  local port=$1; shift
  env ASPNETCORE_URLS="http://127.0.0.1:$port" \
    ASPNETCORE_ENVIRONMENT=Production \
    Logging__LogLevel__Default=Warning \
    Authentication__Issuer="$issuer" \
    Authentication__JwksUri="http://127.0.0.1:$backend_port/.well-known/jwks.json" \
    services__controlplane__http__0="http://127.0.0.1:$backend_port" \
    services__modelgateway__http__0="http://127.0.0.1:$backend_port" \
    services__console__http__0="http://127.0.0.1:$backend_port" \
    Gateway__RateLimits__Tenant__Capacity=1000000000 Gateway__RateLimits__Tenant__RefillPerSecond=1000000000 \
    Gateway__RateLimits__Client__Capacity=1000000000 Gateway__RateLimits__Client__RefillPerSecond=1000000000 \
    "$@" dotnet "$work/gateway/AgentPlatform.Gateway.dll" --contentRoot "$work/gateway" >"$work/gateway-$port.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/alive"
}

echo "Building Release..."
dotnet build -c Release "$root/services/AgentPlatform.Gateway/AgentPlatform.Gateway.csproj" -o "$work/gateway" >"$work/build.log" 2>&1 \
  || { tail -20 "$work/build.log"; exit 1; }
dotnet build -c Release "$root/benchmarks/gateway-overhead-backend.cs" -o "$work/backend" >>"$work/build.log" 2>&1 \
  || { tail -20 "$work/build.log"; exit 1; }

ASPNETCORE_URLS="http://127.0.0.1:$backend_port" BENCH_ISSUER="$issuer" dotnet "$work/backend/gateway-overhead-backend.dll" >"$work/backend.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$backend_port/api/version"
start_gateway "$gateway_port"
if [ -n "${BENCH_REDIS:-}" ]; then
  start_gateway "$redis_gateway_port" ConnectionStrings__redis="$BENCH_REDIS"
fi

token=$(curl -fs "http://127.0.0.1:$backend_port/bench/token?tenant=bench-tenant&subject=bench-user")
backend="http://127.0.0.1:$backend_port"
gateway="http://127.0.0.1:$gateway_port"

# Sanity: the authenticated paths really authenticate, and really pass.
[ "$(curl -s -o /dev/null -w '%{http_code}' "$gateway/api/bench")" = 401 ] || { echo "The gateway let an anonymous request through" >&2; exit 1; }
curl -fs -o /dev/null -H "Authorization: Bearer $token" "$gateway/api/bench"
curl -fs -o /dev/null -H "Authorization: Bearer $api_key" "$gateway/api/bench"


scenarios=(
  "direct $backend/api/bench $token"
  "gateway-public $gateway/api/version"
  "gateway-jwt $gateway/api/bench $token"
  "gateway-api-key $gateway/api/bench $api_key"
)
if [ -n "${BENCH_REDIS:-}" ]; then
  scenarios+=("gateway-jwt-redis http://127.0.0.1:$redis_gateway_port/api/bench $token")
fi

wrk_run() { # seconds url [authorization] -- extra wrk arguments
  local seconds=$1 url=$2 auth=${3:-}
  shift 3
  if [ -n "$auth" ]; then
    wrk -t"$threads" -c"$connections" -d"$seconds" -H "Authorization: Bearer $auth" "$@" "$url"
  else
    wrk -t"$threads" -c"$connections" -d"$seconds" "$@" "$url"
  fi
}

# Every path is warmed up before any is measured, so the JIT (tiered, with dynamic PGO) has settled on all of
# them and the order of the scenarios does not favour the later ones.
echo "Warming up every scenario for $warmup..."
for scenario in "${scenarios[@]}"; do
  read -r name url auth <<<"$scenario"
  wrk_run "$warmup" "$url" "${auth:-}" >/dev/null
done

echo "wrk -t$threads -c$connections -d$duration --latency, $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
results=()
for scenario in "${scenarios[@]}"; do
  read -r name url auth <<<"$scenario"
  wrk_run "$duration" "$url" "${auth:-}" --latency >"$work/$name.txt"
  if grep -q "Non-2xx" "$work/$name.txt"; then
    echo "$name: some responses were not 2xx:" >&2
    cat "$work/$name.txt" >&2
    exit 1
  fi
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$work/$name.txt")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$work/$name.txt")")
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/$name.txt")
  results+=("$name $p50 $p99 $rps")
  echo "  $name: p50 ${p50} ms, p99 ${p99} ms, ${rps} req/s"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
printf '%-18s %9s %9s %10s %12s %12s %11s\n' scenario "p50 ms" "p99 ms" "req/s" "+p50 ms" "+p99 ms" "throughput"
read -r _ base_p50 base_p99 base_rps <<<"${results[0]}"
for result in "${results[@]}"; do
  read -r name p50 p99 rps <<<"$result"
  awk -v n="$name" -v p50="$p50" -v p99="$p99" -v rps="$rps" -v b50="$base_p50" -v b99="$base_p99" -v brps="$base_rps" \
    'BEGIN { printf "%-18s %9.3f %9.3f %10.0f %12.3f %12.3f %10.1f%%\n", n, p50, p99, rps, p50 - b50, p99 - b99, 100 * rps / brps }'
done
