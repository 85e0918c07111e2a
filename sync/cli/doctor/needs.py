"""What a deployment of a policy needs from OCI: backup kinds, event types, tag namespaces, IAM statements.

One source for deploy/deploy.sh (run as `python -m sync.cli.doctor.needs`, JSON on stdout) and for
`doctor`, which checks a live deployment against the same answers. The policy is read as raw data
(the project's safe YAML loader), so a policy the loader would refuse still yields what it names;
`lint` is what judges it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

KINDS = ("volume_group_backup", "volume_backup", "boot_volume_backup")
MEMBER_KINDS = ("volume_backup", "boot_volume_backup")
_ET = "com.oraclecloud.blockvolumes."
# Oracle's event types per kind (README "Deploy to OCI Functions", facts table): creation and,
# for volume and boot volume backups, cross-region copies. No copy event is listed for groups.
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "volume_group_backup": (_ET + "createvolumegroupbackup.end",),
    "volume_backup": (_ET + "createvolumebackup.end", _ET + "copyvolumebackup.end"),
    "boot_volume_backup": (_ET + "createbootvolumebackup.end", _ET + "copybootvolumebackup.end"),
}
SCHEDULE_PRINCIPAL = "all {{request.principal.type = 'resourceschedule', request.principal.id = '{}'}}"
METRICS_NAMESPACE = "backup_tag_sync"


@dataclass(frozen=True)
class PolicyNeeds:
    """What a policy's rules can touch."""

    kinds: tuple[str, ...]  # kinds a rule can match: their events trigger the function
    member_kinds: tuple[str, ...]  # kinds written only as members of a group backup (`members: tags`)
    namespaces: tuple[str, ...]  # defined-tag namespaces written, copied by name, or propagated
    notes: tuple[str, ...] = ()  # what could not be derived, for the operator

    @property
    def update_kinds(self) -> tuple[str, ...]:
        return tuple(k for k in KINDS if k in self.kinds or k in self.member_kinds)

    @property
    def event_types(self) -> list[str]:
        return [t for k in KINDS if k in self.kinds for t in EVENT_TYPES[k]]


ALL_KINDS = PolicyNeeds(KINDS, MEMBER_KINDS, ())


def _rule_kinds(rule: dict[str, Any]) -> set[str]:
    match = rule.get("match")
    given = match.get("kind") if isinstance(match, dict) else None
    if given is None:
        return set(KINDS)
    values = given if isinstance(given, list) else [given]
    return {v for v in values if isinstance(v, str) and v in KINDS}


def _copied_namespaces(rule: dict[str, Any], name: str) -> tuple[list[str], list[str]]:
    """(namespaces a rule copies by name, notes) for copy_tags_from_volume_group."""
    copy = rule.get("copy_tags_from_volume_group")
    defined: Any = (
        copy if isinstance(copy, bool) else (copy.get("defined") if isinstance(copy, dict) else None)
    )
    if defined is True:
        return [], [
            f"rule '{name}' copies every defined-tag namespace of the volume group: the namespaces"
            " cannot be read from the policy; grant them with --tag-namespace NS"
        ]
    if isinstance(defined, list):
        return [ns for ns in defined if isinstance(ns, str)], []
    return [], []


def policy_needs(raw: Any) -> PolicyNeeds:
    """Kinds, member kinds and namespaces of a policy given as parsed YAML/JSON data."""
    rules = raw.get("rules") if isinstance(raw, dict) else None
    kinds: set[str] = set()
    members: set[str] = set()
    namespaces: dict[str, str] = {}  # casefolded -> first spelling (OCI compares them case-insensitively)
    notes: list[str] = []
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        name = str(rule.get("name") or f"#{i + 1}")
        rk = _rule_kinds(rule)
        kinds |= rk
        if rule.get("members") == "tags" and "volume_group_backup" in rk:
            members |= set(MEMBER_KINDS)
        written = rule.get("defined_tags")
        found = list(written) if isinstance(written, dict) else []
        copied, more = _copied_namespaces(rule, name)
        notes += more
        for ns in [*found, *copied]:
            if isinstance(ns, str):
                namespaces.setdefault(ns.casefold(), ns)
    if not kinds:
        # An Events rule must list some event type; with no rule, every kind's (nothing is written).
        notes.append("the policy has no rule: the Events rule lists every kind's events")
        kinds = set(KINDS)
    return PolicyNeeds(
        tuple(k for k in KINDS if k in kinds),
        tuple(k for k in MEMBER_KINDS if k in members and k not in kinds),
        tuple(namespaces.values()),
        tuple(notes),
    )


def needs_of_text(text: str) -> PolicyNeeds:
    from sync.policy.safe_yaml import load

    return policy_needs(load(text))


# ---- the deployment's IAM statements and Events condition --------------------------------------


@dataclass
class Deployment:
    """What deploy.sh was given (and found), enough to write or check its IAM policy."""

    tenancy: str
    compartment: str
    dynamic_group: str
    targets: list[str]
    needs: PolicyNeeds = ALL_KINDS
    member_compartments: list[str] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)  # given with --tag-namespace, beyond the policy's
    namespace_compartment: str = ""
    bucket: str = ""
    bucket_compartment: str = ""
    metrics_compartment: str = ""
    schedule_ids: list[str] = field(default_factory=list)

    def where(self, compartment: str) -> str:
        """A policy location: the root compartment must be written `in tenancy`."""
        return "tenancy" if compartment == self.tenancy else f"compartment id {compartment}"

    def all_namespaces(self) -> list[str]:
        seen: dict[str, str] = {}
        for ns in [*self.needs.namespaces, *self.namespaces]:
            seen.setdefault(ns.casefold(), ns)
        return list(seen.values())


def kind_grants(kinds: Iterable[str], g: str, where: str) -> list[str]:
    """Oracle's Core policy reference: the update of each kind, and the source read it needs."""
    kinds = set(kinds)
    lines = []
    if "volume_group_backup" in kinds:
        lines += [
            f"Allow {g} to inspect volume-group-backups in {where}",
            f"Allow {g} to manage volume-group-backups in {where}"
            " where request.permission = 'VOLUME_GROUP_BACKUP_UPDATE'",
            f"Allow {g} to inspect volume-groups in {where}",
        ]
    if "volume_backup" in kinds:
        lines.append(f"Allow {g} to use volume-backups in {where}")
    if "boot_volume_backup" in kinds:
        lines.append(f"Allow {g} to use boot-volume-backups in {where}")
    if kinds & {"volume_backup", "boot_volume_backup"}:
        lines.append(f"Allow {g} to inspect volumes in {where}")
    return lines


def schedule_grants(where: str, schedule_id: str) -> list[str]:
    """Resource Scheduler's documented form (any-user, scoped to one schedule's OCID), with the
    narrowest Functions resource types for what a schedule does: read the function, invoke it."""
    cond = SCHEDULE_PRINCIPAL.format(schedule_id)
    return [
        f"Allow any-user to read fn-function in {where} where {cond}",
        f"Allow any-user to use fn-invocation in {where} where {cond}",
    ]


def statements(d: Deployment) -> list[str]:
    g = f"dynamic-group {d.dynamic_group}"
    lines: list[str] = []
    for t in d.targets:
        lines += kind_grants(d.needs.update_kinds, g, d.where(t))
    # Member backups live in their volume's compartment, which may be outside the targets.
    for m in d.member_compartments:
        if m not in d.targets:
            lines += kind_grants(d.needs.member_kinds, g, d.where(m))
    ns_where = d.where(d.namespace_compartment or d.tenancy)
    for ns in d.all_namespaces():
        lines.append(
            f"Allow {g} to use tag-namespaces in {ns_where} where target.tag-namespace.name = '{ns}'"
        )
    # The live tag-schema check (ListTagNamespaces, ListTags) of the namespaces' compartment.
    lines.append(f"Allow {g} to inspect tag-namespaces in {ns_where}")
    if d.bucket:
        lines.append(
            f"Allow {g} to read objects in {d.where(d.bucket_compartment)}"
            f" where target.bucket.name = '{d.bucket}'"
        )
    if d.metrics_compartment:
        lines.append(
            f"Allow {g} to use metrics in {d.where(d.metrics_compartment)}"
            f" where target.metrics.namespace = '{METRICS_NAMESPACE}'"
        )
    # A sweep cut by its deadline invokes the function again (detached): Functions has no policy
    # variable for a function's OCID, so the function's compartment is the narrowest scope.
    lines.append(f"Allow {g} to use fn-invocation in {d.where(d.compartment)}")
    lines.append(f"Allow service cloudEvents to use functions-family in {d.where(d.compartment)}")
    for sid in d.schedule_ids:
        lines += schedule_grants(d.where(d.compartment), sid)
    return lines


def condition(needs: PolicyNeeds, targets: Sequence[str]) -> dict[str, Any]:
    return {"eventType": needs.event_types, "data": {"compartmentId": list(targets)}}


def config_size(config: dict[str, str]) -> int:
    """Bytes OCI counts against a function's 4 KB config: each key and value in UTF-8."""
    return sum(len(k.encode()) + len(v.encode()) for k, v in config.items())


# ---- command line for deploy.sh -----------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sync.cli.doctor.needs", description=__doc__)
    p.add_argument("--policy", default="", help="the policy file deployed ('' = cannot be read)")
    p.add_argument("--tenancy", required=True)
    p.add_argument("--compartment", required=True)
    p.add_argument("--dynamic-group", required=True)
    p.add_argument("--target", action="append", default=[])
    p.add_argument("--member-compartment", action="append", default=[])
    p.add_argument("--tag-namespace", action="append", default=[])
    p.add_argument("--tag-namespace-compartment", default="")
    p.add_argument("--bucket", default="")
    p.add_argument("--bucket-compartment", default="")
    p.add_argument("--metrics-compartment", default="")
    p.add_argument("--schedule", action="append", default=[])
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.policy:
        try:
            with open(args.policy, encoding="utf-8") as fh:
                needs = needs_of_text(fh.read())
        except (OSError, ValueError) as exc:
            print(f"cannot read the policy {args.policy}: {exc}", file=sys.stderr)
            return 1
    else:
        needs = ALL_KINDS
    d = Deployment(
        tenancy=args.tenancy,
        compartment=args.compartment,
        dynamic_group=args.dynamic_group,
        targets=args.target or [args.compartment],
        needs=needs,
        member_compartments=args.member_compartment,
        namespaces=args.tag_namespace,
        namespace_compartment=args.tag_namespace_compartment,
        bucket=args.bucket,
        bucket_compartment=args.bucket_compartment,
        metrics_compartment=args.metrics_compartment,
        schedule_ids=args.schedule,
    )
    out = {
        "kinds": list(needs.kinds),
        "memberKinds": list(needs.member_kinds),
        "updateKinds": list(needs.update_kinds),
        "eventTypes": needs.event_types,
        "policyNamespaces": list(needs.namespaces),
        "namespaces": d.all_namespaces(),
        "notes": list(needs.notes),
        "condition": condition(needs, d.targets),
        "statements": statements(d),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
