"""One stand-in app server for tests/test_jobs_at_once.py, as `python -m tests.job_server`.

It builds the app once, from the environment as `flask --app wsgi` does (DATABASE_URL,
SMTP_HOST, …). Then, for each job name read on standard input, it forks a child that runs
`flask --app wsgi <job>` — Flask's own command line, in a process of its own with its own
database connections, as cron starts it — and prints one JSON line: the exit code and
everything the child wrote. Forking spares each run the second it takes to import and build
the app, so two servers told at the same moment start their jobs within a millisecond.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback

from flask.cli import main

import wsgi  # noqa: F401  (builds the app once; each child finds it already imported)


def run_in_child(job: str) -> tuple[int, str]:
    with tempfile.TemporaryFile() as output:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: the job, as `flask --app wsgi <job>` runs it
            os.dup2(output.fileno(), 1)
            os.dup2(output.fileno(), 2)
            code = 0
            sys.argv = ["flask", "--app", "wsgi", job]
            try:
                main()
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (done.code is not None)
            except BaseException:
                traceback.print_exc()  # what Python prints for an uncaught error, then exit 1
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        output.seek(0)
        return os.waitstatus_to_exitcode(status), output.read().decode(errors="replace")


if __name__ == "__main__":
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        code, text = run_in_child(line.strip())
        print(json.dumps({"code": code, "output": text}), flush=True)
