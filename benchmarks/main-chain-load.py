#!/usr/bin/env python3
"""Main chain load: submits N tasks at concurrency C through the gateway of a running platform, waits for every
one to end, and reports the success rate, end-to-end latency and orchestration overhead per task.

    dotnet run -c Release --project AppHost -- --Parameters:admin-password='…'   # in another terminal
    ADMIN_PASSWORD='…' benchmarks/main-chain-load.py --tasks 1000 --concurrency 50

Orchestration overhead of a task = the time from submission to its end that no step was running (read from
GET /api/tasks/{id}), reported whole and in its two parts: the queue wait (submission to a worker starting it) and
the in-run overhead (the runner's journal writes, lease work and the gaps between steps once started).
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

def wait_for_end(base, token, task_id):
    """Follows the task's server-sent events until the stream ends (after the final event) or drops."""
    request = urllib.request.Request(f"{base}/api/tasks/{task_id}/events", headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            for line in response:
                if line.startswith(b"event: ") and line[7:].strip() in (b"completed", b"failed", b"cancelled"):
                    return
    except urllib.error.HTTPError as error:
        if error.code != 429:
            raise
        time.sleep(float(error.headers.get("Retry-After") or 1))
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        time.sleep(1)

def parse(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None

def overhead(task):
    """(end to end, overhead, queue wait, in-run overhead) in seconds; overhead = queue wait + in-run overhead."""
    start, began, end = parse(task["created_at"]), parse(task["started_at"]), parse(task["completed_at"])
    intervals = sorted((parse(s["started_at"]), parse(s["completed_at"])) for s in task["steps"])
    busy, current = 0.0, None
    for a, b in intervals:
        if current is None or a > current[1]:
            if current: busy += (current[1] - current[0]).total_seconds()
            current = [a, b]
        else:
            current[1] = max(current[1], b)
    if current: busy += (current[1] - current[0]).total_seconds()
    total, queued = (end - start).total_seconds(), (began - start).total_seconds()
    return total, total - busy, queued, total - busy - queued

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
            for _ in range(20):  # the event stream ends after the task's final event; a dropped stream is opened again
                details = call(args.base, token(), "GET", f"/api/tasks/{task['task_id']}")
                if details["status"] in ("completed", "failed", "cancelled"):
                    return details
                wait_for_end(args.base, token(), task["task_id"])
            return {"status": "error", "error": "the task did not end"}
        except Exception as error:  # a refused submission or a lost poll counts as a failure
            return {"status": "error", "error": str(error)}

    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        results = list(pool.map(run, range(args.tasks)))
    wall = time.time() - started
    completed = [r for r in results if r["status"] == "completed"]
    durations, overheads, queued, in_run = zip(*(overhead(r) for r in completed)) if completed else ((), (), (), ())
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
        # the two parts of the overhead: waiting for a worker's free slot, and the runner's own time once started
        "queue_wait_seconds": {"p50": round(percentile(queued, 50), 3), "p95": round(percentile(queued, 95), 3)},
        "in_run_overhead_seconds": {"p50": round(percentile(in_run, 50), 3), "p95": round(percentile(in_run, 95), 3)},
    }, indent=2))
    return 0 if len(completed) == args.tasks else 1

if __name__ == "__main__":
    sys.exit(main())
