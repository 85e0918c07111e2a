"""Fake `fn` (Fn Project CLI) and `docker` for the deploy tests: the Fn CLI builds and pushes a
container image, which cannot run here.

What it assumes of the real `fn` (source: the Fn CLI, github.com/fnproject/cli, commands
`deploy`, `inspect context`, `invoke`, and its config handling in config/config.go):
- `fn inspect context` prints `Current context: NAME`, a blank line, then one `key: value` line
  per context setting (api-url, oracle.compartment-id, provider, registry, ...), exit 0;
  without a context it fails.
- `fn deploy --app APP [--no-bump]` (run in the directory of func.yaml) builds the image, pushes it
  to the context's registry, and creates or updates the function named by func.yaml's `name:` in
  the application APP of the context's compartment, in the region of the context's `api-url`.
  It does not create applications.
- The environment variables FN_API_URL and FN_REGISTRY override the context's api-url and
  registry (the Fn CLI reads its settings through viper with the FN_ prefix). deploy.sh uses
  them to deploy to several regions.
- `fn invoke APP FUNCTION` sends stdin as the body and prints the function's answer.

Every call is logged as {"tool": "fn", "argv": [...], "env": {FN_API_URL, FN_REGISTRY}}."""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.request


def context() -> dict[str, str] | None:
    with open(os.environ["FAKE_FN_CONTEXT"]) as f:
        ctx: dict[str, str] | None = json.load(f)
    return ctx


def deploy(argv: list[str]) -> int:
    ctx = context()
    if ctx is None:
        print("Error: no context is set", file=sys.stderr)
        return 1
    app = argv[argv.index("--app") + 1]
    with open("func.yaml") as f:
        name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("name:"))
    api_url = os.environ.get("FN_API_URL") or ctx["api-url"]
    registry = os.environ.get("FN_REGISTRY") or ctx["registry"]
    m = re.fullmatch(r"https://functions\.([a-z0-9-]+)\.(oci\.)?oraclecloud\.com", api_url)
    if not m:
        print(f"Error: api-url {api_url} is not an OCI Functions endpoint", file=sys.stderr)
        return 1
    with open(os.environ["OCI_STUB_ENDPOINTS"]) as f:
        endpoint = json.load(f)[m[1]]
    image = f"{registry}/{name}:0.0.2"
    print(f"Deploying {name} to app: {app}\nBuilding image {image} ...")
    body = {"app": app, "compartmentId": ctx["oracle.compartment-id"], "name": name, "image": image}
    req = urllib.request.Request(endpoint + "/_stub/fn-deploy", data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(req) as resp:
            done = json.load(resp)["result"]
    except urllib.error.HTTPError as e:
        print(f"Error: {e.read().decode()}", file=sys.stderr)
        return 1
    print(f"Successfully {done} function: {name} with {image}")
    return 0


def main() -> int:
    tool, argv = sys.argv[1], sys.argv[2:]
    env = {k: os.environ[k] for k in ("FN_API_URL", "FN_REGISTRY") if k in os.environ}
    with open(os.environ["FAKE_CLI_LOG"], "a") as f:
        f.write(json.dumps({"tool": tool, "argv": argv, "env": env}) + "\n")
    if tool == "docker":
        return 0
    if argv[:2] == ["inspect", "context"]:
        ctx = context()
        if ctx is None:
            print("Error: no context is set, please provider a context to inspect.", file=sys.stderr)
            return 1
        print("Current context: oci\n")
        for k, v in ctx.items():
            print(f"{k}: {v}")
        return 0
    if argv[:1] == ["deploy"]:
        return deploy(argv)
    if argv[:1] == ["invoke"]:
        print(json.dumps({"status": "planned", "via": "fn", "request": json.loads(sys.stdin.read())}))
        return 0
    print(f"Error: fake fn does not implement {' '.join(argv)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
