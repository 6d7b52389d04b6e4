#!/usr/bin/env bash
# Model gateway overhead: p50/p99 latency and throughput of a chat completion sent to an OpenAI-compatible
# upstream directly, through a bare forwarding proxy (the floor for any process in the middle) and through the
# model gateway, at concurrency 1, 16 and 64, all in one run so the ratios compare like with like; with the CPU
# time each process in the middle spends per call.
#
#   benchmarks/model-gateway-overhead.sh
#   LATENCY_MS=50 JITTER_MS=10 DURATION=10s ROUNDS=5 WARMUP=120s CONCURRENCY="1 16 64" benchmarks/model-gateway-overhead.sh   # the defaults
#   JITTER_MS=0 benchmarks/model-gateway-overhead.sh     # the lock-step worst case (see docs/benchmarks.md)
#
# The upstream is benchmarks/ScriptedUpstream (a real HTTP server speaking OpenAI's format) answering every
# call after LATENCY_MS plus a random 0 to JITTER_MS, like a fast model whose answer time varies a little. Its
# waits are timed to within a millisecond; a Task.Delay would add 0-7 ms of timer noise of its own (the runtime's
# timer queue counts in coarse clock ticks).
#
# Through the gateway each call is: authentication (RS256 via JWKS, a validated token remembered), JSON parsing
# and validation, route and budget lookup (cached, reloaded ahead of time), o200k token estimate, request- and
# token-rate limits and a budget reservation in the counters port (in-memory), the relay to the upstream (the
# caller's JSON with `model` replaced, the answer read for usage and sent back as it came; ADR 10), then
# settlement and a usage record (SQLite) after the response. Budgets and limits are sized so nothing is refused:
# the cost of checking them is measured, not of refusing.
# Needs the .NET SDK, wrk (apt-get install -y wrk; installed here when run as root) and curl.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
threads=${THREADS:-2}
duration=${DURATION:-10s}
rounds=${ROUNDS:-5}
# Each path is warmed up before anything is measured, long enough for a fresh .NET process to finish compiling its
# hot code tier by tier: after 10 s the gateway still spent about 0.15 ms more CPU per call and added about 0.5 ms
# more p99 than in steady state (docs/benchmarks.md). What is measured is a service that has been running.
warmup=${WARMUP:-120s}
latency_ms=${LATENCY_MS:-50}
jitter_ms=${JITTER_MS:-10}
concurrency=${CONCURRENCY:-1 16 64}
issuer_port=${ISSUER_PORT:-18091}
upstream_port=${UPSTREAM_PORT:-18092}
gateway_port=${MODEL_GATEWAY_PORT:-18093}
proxy_port=${PROXY_PORT:-18094}
issuer=http://bench.test
tenant=bench-tenant

# shellcheck source=benchmarks/lib.sh
source "$root/benchmarks/lib.sh"

echo "Building Release..."
for project in services/AgentPlatform.ModelGateway services/AgentPlatform.MigrationService benchmarks/ScriptedUpstream; do
  dotnet build -c Release "$root/$project" -o "$work/$(basename "$project")" >>"$work/build.log" 2>&1 \
    || { tail -20 "$work/build.log"; exit 1; }
done
dotnet build -c Release "$root/benchmarks/gateway-overhead-backend.cs" -o "$work/issuer" >>"$work/build.log" 2>&1 \
  || { tail -20 "$work/build.log"; exit 1; }
dotnet build -c Release "$root/benchmarks/bare-proxy.cs" -o "$work/proxy" >>"$work/build.log" 2>&1 \
  || { tail -20 "$work/build.log"; exit 1; }

# The token issuer (JWKS + /bench/token) of the gateway benchmark serves here too.
ASPNETCORE_URLS="http://127.0.0.1:$issuer_port" BENCH_ISSUER="$issuer" dotnet "$work/issuer/gateway-overhead-backend.dll" >"$work/issuer.log" 2>&1 &
pids+=($!)
dotnet "$work/ScriptedUpstream/ScriptedUpstream.dll" --port "$upstream_port" --latency-ms "$latency_ms" --jitter-ms "$jitter_ms" >"$work/upstream.log" 2>&1 &
pids+=($!); upstream_pid=$!
# The floor: a bare HttpClient forwarder (no auth, parsing, governance or records) between wrk and the upstream.
ASPNETCORE_URLS="http://127.0.0.1:$proxy_port" BARE_PROXY_UPSTREAM="http://127.0.0.1:$upstream_port" dotnet "$work/proxy/bare-proxy.dll" >"$work/proxy.log" 2>&1 &
pids+=($!); proxy_pid=$!
wait_for "http://127.0.0.1:$issuer_port/api/version"

mkdir -p "$work/data"
Platform__DataDirectory="$work/data" Logging__LogLevel__Default=Warning dotnet "$work/AgentPlatform.MigrationService/AgentPlatform.MigrationService.dll" \
  --contentRoot "$work/AgentPlatform.MigrationService" >"$work/migrate.log" 2>&1 || { tail -20 "$work/migrate.log"; exit 1; }

route=ModelGateway__Routes__bench
env ASPNETCORE_URLS="http://127.0.0.1:$gateway_port" \
  ASPNETCORE_ENVIRONMENT=Production \
  Logging__LogLevel__Default=Warning \
  Platform__DataDirectory="$work/data" \
  Authentication__Issuer="$issuer" \
  Authentication__JwksUri="http://127.0.0.1:$issuer_port/.well-known/jwks.json" \
  Secrets__KeyEncryptionKey="$(head -c 32 /dev/urandom | base64)" \
  ModelGateway__RateLimits__Tenant__RequestsPerMinute=100000000 ModelGateway__RateLimits__Tenant__TokensPerMinute=100000000000 \
  ModelGateway__RateLimits__Caller__RequestsPerMinute=100000000 ModelGateway__RateLimits__Caller__TokensPerMinute=100000000000 \
  ${route}__Strategy=priority \
  ${route}__Deployments__0__Name=upstream \
  ${route}__Deployments__0__Provider=openai \
  ${route}__Deployments__0__Endpoint="http://127.0.0.1:$upstream_port/v1/" \
  ${route}__Deployments__0__Model=bench-model \
  ${route}__Deployments__0__ApiKey=sk-bench \
  ${route}__Deployments__0__InputPriceMicros=150000 \
  ${route}__Deployments__0__OutputPriceMicros=600000 \
  dotnet "$work/AgentPlatform.ModelGateway/AgentPlatform.ModelGateway.dll" --contentRoot "$work/AgentPlatform.ModelGateway" >"$work/gateway.log" 2>&1 &
pids+=($!); gateway_pid=$!
wait_for "http://127.0.0.1:$gateway_port/alive"

token=$(curl -fs "http://127.0.0.1:$issuer_port/bench/token?tenant=$tenant&subject=bench-user")
upstream="http://127.0.0.1:$upstream_port/v1/chat/completions"
gateway="http://127.0.0.1:$gateway_port/v1/chat/completions"
proxy="http://127.0.0.1:$proxy_port/v1/chat/completions"

cat >"$work/direct.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
wrk.body = '{"model":"bench-model","max_tokens":64,"messages":[{"role":"system","content":"You are a concise assistant."},{"role":"user","content":"Summarise the quarterly revenue report for the board in three sentences."}]}'
LUA
sed -e "s/sk-bench/$token/" -e 's/"model":"bench-model"/"model":"bench"/' "$work/direct.lua" >"$work/gateway.lua"

# Sanity: the gateway authenticates, and answers from the upstream.
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$gateway")" = 401 ] \
  || { echo "The model gateway let an anonymous request through" >&2; exit 1; }
served=$(curl -fs -D - -o /dev/null -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"model":"bench","messages":[{"role":"user","content":"hi"}]}' "$gateway" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-agentplatform-deployment" { print $2 }')
[ "$served" = upstream ] || { echo "The model gateway did not serve from the upstream:" >&2; tail -20 "$work/gateway.log" >&2; exit 1; }


run() { # name seconds connections url script -- extra wrk arguments
  local name=$1 seconds=$2 connections=$3 url=$4 script=$5
  shift 5
  local t=$threads
  [ "$connections" -lt "$t" ] && t=$connections
  wrk -t"$t" -c"$connections" -d"$seconds" -s "$script" "$@" "$url"
}

echo "Warming up every path for $warmup..."
run warmup "$warmup" 16 "$upstream" "$work/direct.lua" >/dev/null
run warmup "$warmup" 16 "$proxy" "$work/direct.lua" >/dev/null
run warmup "$warmup" 16 "$gateway" "$work/gateway.lua" >/dev/null

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system time of a process, in clock ticks

# Rounds: at each concurrency the three paths run one after another, ROUNDS times over. A path's added latency
# and throughput are taken against the direct run of the same round (seconds apart, so the machine's drift
# cancels), and the table shows the median over the rounds with the smallest and largest added p99 beside it.
# Every round is printed above the summary.
echo "upstream latency ${latency_ms} ms + 0-${jitter_ms} ms, wrk -d$duration --latency, $rounds rounds, $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$work/rounds.txt"
for c in $concurrency; do
  for round in $(seq 1 "$rounds"); do
    for path in direct proxy gateway; do
      case $path in
        direct) url=$upstream; script=direct; pid=$upstream_pid ;;
        proxy) url=$proxy; script=direct; pid=$proxy_pid ;;
        gateway) url=$gateway; script=gateway; pid=$gateway_pid ;;
      esac
      out="$work/$path-$c-$round.txt"
      before=$(cpu_ticks "$pid")
      run "$path" "$duration" "$c" "$url" "$work/$script.lua" --latency >"$out"
      ticks=$(( $(cpu_ticks "$pid") - before ))
      if grep -q "Non-2xx" "$out"; then
        echo "$path at c$c: some responses were not 2xx:" >&2; cat "$out" >&2; tail -20 "$work/gateway.log" >&2; exit 1
      fi
      read -r p50 p99 rps calls < <(awk '$1 == "50%" { a = $2 } $1 == "99%" { b = $2 } /^Requests\/sec:/ { r = $2 } /requests in/ { n = $1 } END { print a, b, r, n }' "$out")
      # One line per run: concurrency round path p50 p99 req/s CPU-ms/call (CPU of the process in the middle; for direct, the upstream's)
      awk -v c="$c" -v r="$round" -v path="$path" -v p50="$(to_ms "$p50")" -v p99="$(to_ms "$p99")" -v rps="$rps" -v ticks="$ticks" \
        -v hz="$(getconf CLK_TCK)" -v calls="$calls" 'BEGIN { printf "%s %s %s %.3f %.3f %.1f %.3f\n", c, r, path, p50, p99, rps, 1000 * ticks / hz / calls }' >>"$work/rounds.txt"
    done
  done
done

echo
echo "Every round (added = this path minus the direct run of the same round):"
printf '%-12s %-6s %-8s %9s %9s %10s %10s %10s %11s %12s\n' concurrency round path "p50 ms" "p99 ms" "req/s" "+p50 ms" "+p99 ms" throughput "CPU ms/call"
awk '$3 == "direct" { d50[$1, $2] = $4; d99[$1, $2] = $5; drps[$1, $2] = $6 }
  { if ($3 == "direct") printf "%-12s %-6s %-8s %9.3f %9.3f %10.1f %10s %10s %11s %12.3f\n", $1, $2, $3, $4, $5, $6, "", "", "", $7
    else printf "%-12s %-6s %-8s %9.3f %9.3f %10.1f %10.3f %10.3f %10.1f%% %12.3f\n", $1, $2, $3, $4, $5, $6, $4 - d50[$1, $2], $5 - d99[$1, $2], 100 * $6 / drps[$1, $2], $7 }' "$work/rounds.txt"

echo
echo "Median over $rounds rounds (+p99 range: the best and worst round):"
printf '%-12s %-8s %9s %9s %10s %10s %10s %16s %11s %12s\n' concurrency path "p50 ms" "p99 ms" "req/s" "+p50 ms" "+p99 ms" "+p99 range ms" throughput "CPU ms/call"
for c in $concurrency; do
  for path in direct proxy gateway; do
    awk -v c="$c" -v path="$path" '
      function median(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
      $1 == c && $3 == "direct" { d50[$2] = $4; d99[$2] = $5; drps[$2] = $6 }
      $1 == c && $3 == path { n++; r[n] = $2; p50[n] = $4; p99[n] = $5; rps[n] = $6; cpu[n] = $7 }
      END {
        lo = ""; hi = ""
        for (i = 1; i <= n; i++) { a50[i] = p50[i] - d50[r[i]]; a99[i] = p99[i] - d99[r[i]]; thr[i] = 100 * rps[i] / drps[r[i]]
          if (lo == "" || a99[i] < lo) lo = a99[i]; if (hi == "" || a99[i] > hi) hi = a99[i] }
        m50 = median(p50, n); m99 = median(p99, n); mrps = median(rps, n); mcpu = median(cpu, n)
        if (path == "direct") printf "%-12s %-8s %9.3f %9.3f %10.1f %10s %10s %16s %11s %12.3f\n", c, path, m50, m99, mrps, "", "", "", "", mcpu
        else printf "%-12s %-8s %9.3f %9.3f %10.1f %10.3f %10.3f %16s %10.1f%% %12.3f\n", c, path, m50, m99, mrps, median(a50, n), median(a99, n),
          sprintf("%.2f .. %.2f", lo, hi), median(thr, n), mcpu }' "$work/rounds.txt"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
usage=$(sqlite3 "$work/data/agentplatform.db" "select count(*) from model_usage" 2>/dev/null || echo "?")
echo "usage records written by the gateway: $usage"
