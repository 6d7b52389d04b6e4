#!/usr/bin/env python3
"""Main chain load: submits N tasks at concurrency C through the gateway of a running platform, waits for every
one to end, and reports the success rate, end-to-end latency and orchestration overhead per task.

    dotnet run -c Release --project AppHost -- --Parameters:admin-password='…'   # in another terminal
    ADMIN_PASSWORD='…' benchmarks/main-chain-load.py --tasks 1000 --concurrency 50

Orchestration overhead of a task = the time from submission to its end that no step was running: waiting for a
worker, the runner's journal writes and lease work, and the gaps between steps (read from GET /api/tasks/{id}).
"""
import argparse, concurrent.futures, json, os, statistics, sys, threading, time, urllib.error, urllib.parse, urllib.request
from datetime import datetime

def call(base, token, method, path, body=None, attempts=20):
    """One API call; a 429 is waited out as a well-behaved client would (Retry-After), up to `attempts` times."""
    for attempt in range(attempts):
        request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            if error.code != 429 or attempt == attempts - 1:
                raise
            time.sleep(float(error.headers.get("Retry-After") or 1))

def parse(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None

def overhead(task):
    start, end = parse(task["created_at"]), parse(task["completed_at"])
    intervals = sorted((parse(s["started_at"]), parse(s["completed_at"])) for s in task["steps"])
    busy, current = 0.0, None
    for a, b in intervals:
        if current is None or a > current[1]:
            if current: busy += (current[1] - current[0]).total_seconds()
            current = [a, b]
        else:
            current[1] = max(current[1], b)
    if current: busy += (current[1] - current[0]).total_seconds()
    return (end - start).total_seconds(), (end - start).total_seconds() - busy

def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://localhost:8080")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    form = f"grant_type=password&username=admin&password={urllib.parse.quote(os.environ['ADMIN_PASSWORD'])}".encode()
    signed_in = {"token": None, "at": 0.0}
    lock = threading.Lock()

    def token():  # access tokens live 15 minutes; sign in again well before
        with lock:
            if time.time() - signed_in["at"] > 300:
                with urllib.request.urlopen(urllib.request.Request(args.base + "/auth/token", data=form), timeout=30) as response:
                    signed_in["token"], signed_in["at"] = json.loads(response.read())["access_token"], time.time()
            return signed_in["token"]

    def run(i):
        try:
            task = call(args.base, token(), "POST", "/api/tasks", {"input": f"Compare the revenue of region {i % 7} with last year. Then draft a short summary for the board."})
            while True:
                time.sleep(0.5)
                details = call(args.base, token(), "GET", f"/api/tasks/{task['task_id']}")
                if details["status"] in ("completed", "failed", "cancelled"):
                    return details
        except Exception as error:  # a refused submission or a lost poll counts as a failure
            return {"status": "error", "error": str(error)}

    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        results = list(pool.map(run, range(args.tasks)))
    wall = time.time() - started
    completed = [r for r in results if r["status"] == "completed"]
    durations, overheads = zip(*(overhead(r) for r in completed)) if completed else ((), ())
    failures = {}
    for r in results:
        if r["status"] != "completed":
            key = r.get("error") if r["status"] == "error" else (r.get("error") or {}).get("code", r["status"])
            failures[key] = failures.get(key, 0) + 1
    print(json.dumps({
        "tasks": args.tasks, "concurrency": args.concurrency, "wall_seconds": round(wall, 1),
        "tasks_per_second": round(args.tasks / wall, 2),
        "success_rate_percent": round(100 * len(completed) / args.tasks, 2),
        "failures": failures,
        "end_to_end_seconds": {"p50": round(percentile(durations, 50), 3), "p95": round(percentile(durations, 95), 3), "max": round(max(durations, default=float("nan")), 3)},
        "orchestration_overhead_seconds": {"p50": round(percentile(overheads, 50), 3), "p95": round(percentile(overheads, 95), 3), "mean": round(statistics.fmean(overheads), 3) if overheads else None},
    }, indent=2))
    return 0 if len(completed) == args.tasks else 1

if __name__ == "__main__":
    sys.exit(main())
