"""Fake `oci`, `fn` and `docker` executables for the deploy script tests.

Run as ``python3 fake_cli.py TOOL ARGS...`` (the fixture writes tiny wrappers
named ``oci``/``fn``/``docker`` that do this). Every call appends
``{"tool": TOOL, "argv": [...]}`` to ``$FAKE_CLI_LOG``. State lives in the JSON
file ``$FAKE_CLI_STATE`` so that a create is seen by the next list.

Output mimics the real CLIs: the oci CLI prints ``{"data": ...}`` with
kebab-case model keys (tag and config keys unchanged), prints nothing for an
empty list, and rejects options a command does not have (exit 2), which keeps
the scripts honest about flag names. The option sets below were taken from
``oci <command> --help`` of oci-cli 3.95.1.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

BOOL_FLAGS = {"--all", "--force", "--help", "--no-endpoint-cache"}
WAIT = {"--wait-for-state", "--max-wait-seconds", "--wait-interval-seconds"}

OPTIONS: dict[str, set[str]] = {
    "iam region list": set(),
    "iam compartment get": {"--compartment-id"},
    "network subnet get": {"--subnet-id"},
    "iam tag-namespace list": {"--compartment-id", "--all", "--include-subcompartments"},
    "os bucket get": {"--namespace-name", "--bucket-name"},
    "fn application list": {"--compartment-id", "--display-name", "--all", "--lifecycle-state"},
    "fn application get": {"--application-id"},
    "fn application create": {
        "--compartment-id",
        "--display-name",
        "--subnet-ids",
        "--config",
        "--freeform-tags",
        *WAIT,
    },
    "fn application delete": {"--application-id", "--force", *WAIT},
    "fn function list": {"--application-id", "--display-name", "--all", "--lifecycle-state"},
    "fn function get": {"--function-id"},
    "fn function update container-function": {
        "--function-id",
        "--config",
        "--freeform-tags",
        "--force",
        *WAIT,
    },
    "fn function delete": {"--function-id", "--force", *WAIT},
    "fn function invoke": {"--function-id", "--file", "--body", "--fn-intent", "--fn-invoke-type"},
    "iam dynamic-group list": {"--compartment-id", "--name", "--all"},
    "iam dynamic-group create": {
        "--compartment-id",
        "--name",
        "--description",
        "--matching-rule",
        "--freeform-tags",
        *WAIT,
    },
    "iam dynamic-group update": {
        "--dynamic-group-id",
        "--description",
        "--matching-rule",
        "--freeform-tags",
        "--force",
        *WAIT,
    },
    "iam dynamic-group delete": {"--dynamic-group-id", "--force", *WAIT},
    "iam policy list": {"--compartment-id", "--name", "--all"},
    "iam policy create": {
        "--compartment-id",
        "--name",
        "--description",
        "--statements",
        "--freeform-tags",
        "--version-date",
        *WAIT,
    },
    "iam policy update": {
        "--policy-id",
        "--description",
        "--statements",
        "--freeform-tags",
        "--version-date",
        "--force",
    },
    "iam policy delete": {"--policy-id", "--force", *WAIT},
    "events rule list": {"--compartment-id", "--display-name", "--all", "--lifecycle-state"},
    "events rule get": {"--rule-id"},
    "events rule create": {
        "--compartment-id",
        "--display-name",
        "--description",
        "--is-enabled",
        "--condition",
        "--actions",
        "--freeform-tags",
        *WAIT,
    },
    "events rule update": {
        "--rule-id",
        "--display-name",
        "--description",
        "--is-enabled",
        "--condition",
        "--actions",
        "--freeform-tags",
        "--force",
        *WAIT,
    },
    "events rule delete": {"--rule-id", "--force", *WAIT},
}
GLOBAL = {"--region"}


class CliError(Exception):
    def __init__(self, message: str, rc: int = 1) -> None:
        super().__init__(message)
        self.rc = rc


def load() -> dict[str, Any]:
    with open(os.environ["FAKE_CLI_STATE"]) as f:
        return json.load(f)


def save(state: dict[str, Any]) -> None:
    path = os.environ["FAKE_CLI_STATE"]
    with open(path + ".tmp", "w") as f:
        json.dump(state, f, indent=1, sort_keys=True)
    os.replace(path + ".tmp", path)


def new_id(state: dict[str, Any], kind: str) -> str:
    state["counter"] = state.get("counter", 0) + 1
    return f"ocid1.{kind}.oc1..fake{state['counter']:04d}"


def out(data: Any) -> None:
    print(json.dumps({"data": data}, indent=2))


def out_list(items: list[dict[str, Any]]) -> None:
    if items:  # the real CLI prints nothing at all for an empty list
        out(items)


def service_error(status: int, code: str, message: str) -> CliError:
    body = {"code": code, "message": message, "status": status, "opc-request-id": "fake/req"}
    return CliError("ServiceError:\n" + json.dumps(body, indent=4))


def not_found(what: str) -> CliError:
    return service_error(404, "NotAuthorizedOrNotFound", f"{what} not found or not authorized")


def parse(argv: list[str]) -> tuple[str, dict[str, Any]]:
    words: list[str] = []
    i = 0
    while i < len(argv) and not argv[i].startswith("-"):
        words.append(argv[i])
        i += 1
    opts: dict[str, Any] = {}
    while i < len(argv):
        a = argv[i]
        if not a.startswith("--"):
            raise CliError(f"Error: Got unexpected extra argument ({a})", 2)
        if a in BOOL_FLAGS:
            opts[a] = True
            i += 1
            continue
        if i + 1 >= len(argv):
            raise CliError(f"Error: Option '{a}' requires an argument.", 2)
        opts[a] = argv[i + 1]
        i += 2
    return " ".join(words), opts


def live(o: dict[str, Any]) -> bool:
    return o.get("lifecycle-state") not in ("DELETED", "DELETING")


def by_id(items: list[dict[str, Any]], ident: str, what: str) -> dict[str, Any]:
    for o in items:
        if o["id"] == ident and live(o):
            return o
    raise not_found(what)


def jarg(opts: dict[str, Any], key: str) -> Any:
    try:
        return json.loads(opts[key])
    except json.JSONDecodeError as e:
        raise CliError(f"Parameter '{key}' must be in JSON format.", 2) from e


def boolarg(v: str) -> bool:
    if v.lower() not in ("true", "false"):
        raise CliError(f"Error: Invalid value for boolean: {v}", 2)
    return v.lower() == "true"


def require(opts: dict[str, Any], *keys: str) -> None:
    for k in keys:
        if k not in opts:
            raise CliError(f"Error: Missing option(s) {k}.", 2)


def filtered(items: list[dict[str, Any]], opts: dict[str, Any], **match: str) -> list[dict]:
    res = []
    for o in items:
        if not live(o):
            continue
        if all(opts.get(opt) is None or o.get(field) == opts[opt] for opt, field in match.items()):
            res.append(o)
    return res


def oci(argv: list[str]) -> int:
    state = load()
    if "--help" in argv:
        words, _ = parse([a for a in argv if a != "--help"])
        if words == "fn function update":
            if state.get("update_is_group", True):
                print("Usage: oci fn function update [OPTIONS] COMMAND [ARGS]...\n\nCommands:")
                print("  archive-function\n  container-function\n  pbf-function")
            else:
                print("Usage: oci fn function update [OPTIONS]\n  --function-id TEXT")
            return 0
        print(f"Usage: oci {words} [OPTIONS]")
        return 0
    cmd, opts = parse(argv)
    if cmd == "fn function update" and not state.get("update_is_group", True):
        cmd = "fn function update container-function"
    if cmd not in OPTIONS:
        raise CliError(f"Error: No such command: oci {cmd}", 2)
    for k in opts:
        if k not in OPTIONS[cmd] and k not in GLOBAL:
            raise CliError(f"Error: No such option: {k} (oci {cmd})", 2)
    if not state.get("authenticated", True):
        raise CliError(
            "ERROR: Could not find config file at /root/.oci/config\n"
            "Do you want to create a new config file? [Y/n]: "
        )
    if cmd == "iam region list":
        out([{"key": "IAD", "name": "us-ashburn-1"}, {"key": "PHX", "name": "us-phoenix-1"}])
        return 0
    if cmd == "iam compartment get":
        require(opts, "--compartment-id")
        c = state["compartments"].get(opts["--compartment-id"])
        if c is None:
            raise not_found("Compartment")
        out({"id": opts["--compartment-id"], "lifecycle-state": "ACTIVE", **c})
        return 0
    if cmd == "network subnet get":
        s = state["subnets"].get(opts["--subnet-id"])
        if s is None:
            raise not_found("Subnet")
        out({"id": opts["--subnet-id"], "lifecycle-state": "AVAILABLE", **s})
        return 0
    if cmd == "iam tag-namespace list":
        out_list([n for n in state["tag_namespaces"] if n["compartment-id"] == opts["--compartment-id"]])
        return 0
    if cmd == "os bucket get":
        b = state["buckets"].get(f"{opts['--namespace-name']}/{opts['--bucket-name']}")
        if b is None:
            raise not_found("Bucket")
        out({"name": opts["--bucket-name"], "namespace": opts["--namespace-name"], **b})
        return 0

    kind, _, verb = cmd.rpartition(" ")
    if verb.startswith("container-function"):
        kind, verb = "fn function", "update"
    table = {
        "fn application": ("applications", "fnapp", "--application-id", "display-name"),
        "fn function": ("functions", "fnfunc", "--function-id", "display-name"),
        "iam dynamic-group": ("dynamic_groups", "dynamicgroup", "--dynamic-group-id", "name"),
        "iam policy": ("policies", "policy", "--policy-id", "name"),
        "events rule": ("rules", "eventrule", "--rule-id", "display-name"),
    }[kind]
    coll, ocid_kind, id_opt, name_field = table
    items: list[dict[str, Any]] = state.setdefault(coll, [])

    if verb == "list":
        if kind == "fn function":
            require(opts, "--application-id")
            match = {"--application-id": "application-id"}
        else:
            require(opts, "--compartment-id")
            match = {"--compartment-id": "compartment-id"}
        name_opt = "--display-name" if name_field == "display-name" else "--name"
        match[name_opt] = name_field
        res = filtered(items, opts, **match)
        if kind == "events rule":  # ListRules returns RuleSummary: no actions
            res = [{k: v for k, v in o.items() if k != "actions"} for o in res]
        if kind == "fn function":  # FunctionSummary has no config
            res = [{k: v for k, v in o.items() if k != "config"} for o in res]
        out_list(res)
        return 0
    if verb == "get":
        out(by_id(items, opts[id_opt], kind))
        return 0
    if verb == "delete":
        require(opts, id_opt)
        o = by_id(items, opts[id_opt], kind)
        if kind == "fn application" and any(
            f["application-id"] == o["id"] and live(f) for f in state.get("functions", [])
        ):
            raise service_error(409, "Conflict", "Application has functions")
        o["lifecycle-state"] = "DELETED"
        save(state)
        return 0
    if verb == "invoke":
        require(opts, "--function-id", "--file", "--body")
        by_id(state["functions"], opts["--function-id"], "function")
        body = json.loads(opts["--body"])
        print(json.dumps({"status": "planned", "request": body}))
        return 0
    if verb == "create":
        require(opts, "--compartment-id")
        o: dict[str, Any] = {
            "id": new_id(state, ocid_kind),
            "compartment-id": opts["--compartment-id"],
            "lifecycle-state": "ACTIVE",
            "freeform-tags": jarg(opts, "--freeform-tags") if "--freeform-tags" in opts else {},
            "defined-tags": {},
            "time-created": "2026-01-01T00:00:00.000000+00:00",
        }
        if kind == "fn application":
            require(opts, "--display-name", "--subnet-ids")
            o.update(
                {
                    "display-name": opts["--display-name"],
                    "subnet-ids": jarg(opts, "--subnet-ids"),
                    "config": jarg(opts, "--config") if "--config" in opts else {},
                }
            )
        elif kind == "iam dynamic-group":
            require(opts, "--name", "--description", "--matching-rule")
            o.update(
                {
                    "name": opts["--name"],
                    "description": opts["--description"],
                    "matching-rule": opts["--matching-rule"],
                }
            )
        elif kind == "iam policy":
            require(opts, "--name", "--description", "--statements")
            o.update(
                {
                    "name": opts["--name"],
                    "description": opts["--description"],
                    "statements": jarg(opts, "--statements"),
                    "version-date": None,
                }
            )
        elif kind == "events rule":
            require(opts, "--display-name", "--is-enabled", "--condition", "--actions")
            o.update(
                {
                    "display-name": opts["--display-name"],
                    "description": opts.get("--description"),
                    "is-enabled": boolarg(opts["--is-enabled"]),
                    "condition": opts["--condition"],
                    "actions": rule_actions(state, jarg(opts, "--actions")),
                }
            )
            json.loads(opts["--condition"])
        items.append(o)
        save(state)
        out(o)
        return 0
    if verb == "update":
        require(opts, id_opt)
        o = by_id(items, opts[id_opt], kind)
        if kind in ("iam dynamic-group", "iam policy", "events rule", "fn function") and (
            "--force" not in opts
        ):
            raise CliError("WARNING: Updates ... Are you sure you want to continue? [y/N]: ", 1)
        for opt, field in (
            ("--matching-rule", "matching-rule"),
            ("--description", "description"),
            ("--condition", "condition"),
            ("--display-name", "display-name"),
        ):
            if opt in opts:
                o[field] = opts[opt]
        for opt, field in (
            ("--statements", "statements"),
            ("--freeform-tags", "freeform-tags"),
            ("--config", "config"),
        ):
            if opt in opts:
                o[field] = jarg(opts, opt)
        if "--is-enabled" in opts:
            o["is-enabled"] = boolarg(opts["--is-enabled"])
        if "--actions" in opts:
            o["actions"] = rule_actions(state, jarg(opts, "--actions"))
        save(state)
        out(o)
        return 0
    raise CliError(f"Error: fake oci does not implement {cmd}", 2)


def rule_actions(state: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    res = []
    for a in given["actions"]:
        res.append(
            {
                "id": new_id(state, "eventaction"),
                "action-type": a["actionType"],
                "function-id": a.get("functionId"),
                "is-enabled": a["isEnabled"],
                "description": a.get("description"),
                "lifecycle-state": "ACTIVE",
                "lifecycle-message": None,
            }
        )
    return {"actions": res}


def fn(argv: list[str]) -> int:
    state = load()
    ctx = state["fn_context"]
    if argv[:2] == ["inspect", "context"]:
        if ctx is None:
            raise CliError("Error: no context is set, please provider a context to inspect.")
        print("Current context: fake-oci\n")
        for k, v in ctx.items():
            print(f"{k}: {v}")
        return 0
    if argv[:1] == ["version"]:
        print("Client version is latest version: 0.6.99 (fake)")
        return 0
    if argv[:1] == ["deploy"]:
        app_name = argv[argv.index("--app") + 1]
        with open("func.yaml") as f:
            name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("name:"))
        apps = [
            a
            for a in state.get("applications", [])
            if a["display-name"] == app_name
            and a["compartment-id"] == ctx["oracle.compartment-id"]
            and live(a)
        ]
        if not apps:
            raise CliError(f"Error: app {app_name} not found (fake fn does not create apps)")
        app = apps[0]
        print(f"Deploying {name} to app: {app_name}")
        print(f"Building image {ctx['registry']}/{name}:0.0.2 ...")
        funcs = state.setdefault("functions", [])
        existing = [f for f in funcs if f["application-id"] == app["id"] and f["display-name"] == name]
        existing = [f for f in existing if live(f)]
        if existing:
            existing[0]["image"] = f"{ctx['registry']}/{name}:0.0.2"
            print(f"Updating function {name} using image {ctx['registry']}/{name}:0.0.2...")
        else:
            funcs.append(
                {
                    "id": new_id(state, "fnfunc"),
                    "display-name": name,
                    "application-id": app["id"],
                    "compartment-id": app["compartment-id"],
                    "lifecycle-state": "ACTIVE",
                    "image": f"{ctx['registry']}/{name}:0.0.2",
                    "memory-in-mbs": 256,
                    "timeout-in-seconds": 120,
                    "config": {},
                    "freeform-tags": {},
                    "defined-tags": {},
                }
            )
            print(f"Successfully created function: {name} with {ctx['registry']}/{name}:0.0.2")
        save(state)
        return 0
    if argv[:1] == ["invoke"]:
        body = sys.stdin.read()
        print(json.dumps({"status": "planned", "via": "fn", "request": json.loads(body)}))
        return 0
    raise CliError(f"Error: fake fn does not implement {' '.join(argv)}", 2)


def main() -> int:
    tool, argv = sys.argv[1], sys.argv[2:]
    with open(os.environ["FAKE_CLI_LOG"], "a") as f:
        f.write(json.dumps({"tool": tool, "argv": argv}) + "\n")
    try:
        if tool == "oci":
            return oci(argv)
        if tool == "fn":
            return fn(argv)
        return 0  # docker: present, does nothing
    except CliError as e:
        print(str(e), file=sys.stderr)
        return e.rc


if __name__ == "__main__":
    sys.exit(main())
