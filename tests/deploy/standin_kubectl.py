"""A stand-in for `kubectl` (and its Argo Rollouts plugin) for dry runs of deploy.sh.

It answers as a cluster where every step succeeds, and records each call, with the
content of the files it was given, as one JSON line in $STANDIN_LOG. `kubectl kustomize`
is the real one ($STANDIN_REAL_KUBECTL): the release renders the repository's overlays.

To make a step fail: STANDIN_FAIL=<text> fails every call whose arguments contain the text;
STANDIN_JOB=Failed makes the migration Job fail; STANDIN_ROLLOUT=<status> is what
`kubectl argo rollouts status --watch=false` prints (default Healthy).
"""

import json
import os
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if argv[:1] == ["kustomize"]:
        return subprocess.run([os.environ["STANDIN_REAL_KUBECTL"], *argv], check=False).returncode
    files = {}
    for index, argument in enumerate(argv[:-1]):
        if argument in {"-f", "--filename"}:
            files[argv[index + 1]] = Path(argv[index + 1]).read_text()
    with open(os.environ["STANDIN_LOG"], "a") as log:
        log.write(json.dumps({"argv": argv, "files": files}) + "\n")
    command = " ".join(argv)
    if os.environ.get("STANDIN_FAIL") and os.environ["STANDIN_FAIL"] in command:
        print(f"stand-in kubectl: failing on purpose: {command}", file=sys.stderr)
        return 1
    if "get job eren-migrate" in command:
        print(os.environ.get("STANDIN_JOB", "Complete"), end="")
    elif "status eren-web --watch=false" in command:
        print(os.environ.get("STANDIN_ROLLOUT", "Healthy"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
