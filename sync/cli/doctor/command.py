"""`backup-tag-sync doctor`: the options, the run over regions, and the report (lines or --json)."""

from __future__ import annotations

import argparse
import configparser
import json
import os
from typing import Any, TextIO

from sync.cli.doctor.checks import Check, Doctor, Target
from sync.cli.doctor.oci_clients import DoctorClients
from sync.cli.helptext import PROG, add_command

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_doctor_command(sub: Any) -> None:
    p = add_command(
        sub,
        "doctor",
        "check a live deployment (one line per check, exit 1 on a failure)",
        f"{PROG} doctor --compartment ocid1.compartment.oc1..apps\n"
        f"{PROG} doctor --compartment ocid1.compartment.oc1..apps --regions us-ashburn-1,us-phoenix-1 --json",
    )
    p.add_argument("--compartment", required=True, help="the --compartment given to deploy/deploy.sh")
    p.add_argument(
        "--app",
        default="backup-tag-sync",
        help="application name, as deploy.sh --app (default: backup-tag-sync)",
    )
    p.add_argument(
        "--function",
        default="backup-tag-sync",
        help="function name, func.yaml's name: (default: backup-tag-sync)",
    )
    p.add_argument("--name-prefix", default="", help="deploy.sh --name-prefix (default: the app name)")
    p.add_argument(
        "--target-compartment",
        action="append",
        default=[],
        help="as given to deploy.sh (default: --compartment)",
    )
    p.add_argument(
        "--member-compartment", action="append", default=[], help="as given to deploy.sh (default: none)"
    )
    p.add_argument(
        "--tag-namespace", action="append", default=[], help="as given to deploy.sh (default: none)"
    )
    p.add_argument(
        "--tag-namespace-compartment", default="", help="as given to deploy.sh (default: the tenancy)"
    )
    p.add_argument("--tenancy", default="", help="default: OCI_TENANCY, or tenancy= in the OCI config file")
    p.add_argument("--regions", default="", help="comma-separated regions (default: the config's region)")
    p.add_argument(
        "--backup",
        default="",
        help="backup OCID of the manual dry-run invoke (default: the first target's newest group backup)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="one JSON object: every check, and ok (default: one line per check)",
    )
    p.set_defaults(func=cmd_doctor)


def _tenancy(args: argparse.Namespace) -> str:
    if args.tenancy or os.environ.get("OCI_TENANCY"):
        return str(args.tenancy or os.environ["OCI_TENANCY"])
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(os.path.expanduser(os.environ.get("OCI_CONFIG_FILE") or "~/.oci/config"))
    profile = os.environ.get("OCI_CONFIG_PROFILE") or "DEFAULT"
    section = (
        parser.defaults()
        if profile == "DEFAULT"
        else (parser[profile] if parser.has_section(profile) else {})
    )
    return str(section.get("tenancy", ""))


def cmd_doctor(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    tenancy = _tenancy(args)
    if not tenancy:
        print("error: cannot tell the tenancy: pass --tenancy OCID or set OCI_TENANCY", file=err)
        return EXIT_USAGE
    target = Target(
        compartment=args.compartment,
        tenancy=tenancy,
        app=args.app,
        function=args.function,
        prefix=args.name_prefix,
        targets=list(dict.fromkeys(args.target_compartment)),
        member_compartments=args.member_compartment,
        tag_namespaces=args.tag_namespace,
        tag_namespace_compartment=args.tag_namespace_compartment,
        backup=args.backup,
    )
    regions = [r for r in dict.fromkeys(args.regions.split(",")) if r] or [""]
    results: list[Check] = []
    for region in regions:
        if not args.json:
            print(f"region {region or '(config default)'}:", file=out, flush=True)
        found = Doctor(target, DoctorClients(region=region or None), region).run()
        results += found
        if not args.json:
            for c in found:
                print("  " + c.line().replace("\n", "\n  "), file=out, flush=True)
    ok = all(c.ok for c in results)
    if args.json:
        print(json.dumps({"ok": ok, "checks": [c.to_dict() for c in results]}, ensure_ascii=False), file=out)
    else:
        failed = sum(not c.ok for c in results)
        print(f"{len(results) - failed} ok, {failed} failed", file=out)
    return EXIT_OK if ok else EXIT_FAILED
