"""Shared by the commands: errors and exit codes, clients, the policy, logging, input checks, options."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from typing import TextIO

from sync import logs
from sync.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, CliError
from sync.cli.options import seconds_arg
from sync.cli.reach import check_reachable
from sync.cloud.clients import AuthError, Clients, OciSettings
from sync.cloud.engine import CallFailed
from sync.domain.ocid import check_ocid
from sync.policy.loader import Policy
from sync.sources.bundled import DEFAULT_POLICY
from sync.sources.select import load_policy_from, source_from_env

NO_TIMEOUT = 7 * 24 * 3600.0
BAD_OUTCOMES = frozenset({"failed", "not_found", "rejected"})

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "CliError"]


def env_vars() -> Mapping[str, str]:
    return os.environ


# -- shared setup ----------------------------------------------------------------------------


def build_clients(env: Mapping[str, str], *, identity: bool = False) -> Clients:
    """Clients from the function's settings (OCI_AUTH, OCI_CONFIG_FILE, OCI_CORE_ENDPOINT...)."""
    try:
        clients = Clients(OciSettings.from_env(env))
        core = clients.blockstorage()  # authenticate now, so a bad setup is one line before any work
        if identity:
            clients.identity()
    except AuthError as exc:
        raise CliError(str(exc)) from None
    except Exception as exc:  # the SDK's InvalidConfig and friends, raised when a client is built
        raise CliError(f"OCI client setup failed: {type(exc).__name__}: {exc}") from None
    setting = "OCI_CORE_ENDPOINT" if clients.settings.core_endpoint else "the region's Block Storage endpoint"
    check_reachable(core.base_client.endpoint, setting)
    return clients


def check_policy_file(source: str) -> None:
    """A local policy that cannot be read is a usage error (exit 2), not an invalid policy (exit 1)."""
    if "://" in source and not source.startswith("file://"):
        return  # oci://, s3://: the source reports what the fetch answered
    path = source[len("file://") :] if source.startswith("file://") else source
    if not os.path.isfile(path):
        why = "not a file" if os.path.exists(path) else "no such file"
        raise CliError(f"cannot read policy file {path}: {why}")
    if not os.access(path, os.R_OK):
        raise CliError(f"cannot read policy file {path}: permission denied")


def load_policy_arg(source: str) -> Policy:
    """A policy from a path, file:///abs, oci://bucket@namespace/object or s3://bucket/key."""
    check_policy_file(source)
    # The source logs its errors for the function's log; here they are printed as lines.
    quiet = logging.getLogger("sync.sources")
    before = quiet.disabled
    quiet.disabled = True
    try:
        return load_policy_from(source, os.environ)
    finally:
        quiet.disabled = before


def policy_loader(policy_arg: str | None, env: Mapping[str, str], clients: Clients) -> Callable[[], Policy]:
    """--policy (path, file://, oci://, s3://) loaded once; else the function's TAG_POLICY rules."""
    if policy_arg:
        check_policy_file(policy_arg)
        policy = load_policy_from(policy_arg, env)  # PolicyError: printed by main, exit 1
        return lambda: policy
    source = source_from_env(env, lambda: clients, DEFAULT_POLICY)
    source.load()  # fail now, with the validation message, rather than once per backup
    return source.load


@contextlib.contextmanager
def cli_logging(log_file: str | None, env: Mapping[str, str]) -> Iterator[None]:
    """JSON logs to --log-file, or to stderr when LOG_LEVEL is set; else silent (the summary says it).

    The `sync` logger's previous state is restored afterwards (main() also runs inside tests).
    """
    logger = logging.getLogger("sync")
    saved = (logger.level, list(logger.handlers), logger.propagate)
    stream: TextIO | None = None
    try:
        if log_file:
            try:
                stream = open(log_file, "a", encoding="utf-8")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise CliError(f"cannot open log file {log_file}: {exc.strerror}") from None
            logs.setup(env.get("LOG_LEVEL", "info"), stream)
        elif env.get("LOG_LEVEL"):
            logs.setup(env["LOG_LEVEL"])
        else:
            logger.setLevel(logging.CRITICAL + 1)
            logger.propagate = False
        yield
    finally:
        logger.setLevel(saved[0])
        logger.handlers[:] = saved[1]
        logger.propagate = saved[2]
        if stream is not None:
            stream.close()


def ocid_arg(value: str, *kinds: str) -> str:
    try:
        return check_ocid(value.strip(), *kinds)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def failure_line(failure: CallFailed) -> str:
    rid = f" (opc-request-id {failure.opc_request_id})" if failure.opc_request_id else ""
    return f"{failure}{rid}"


# -- argparse ----------------------------------------------------------------------------------


def add_common_options(p: argparse.ArgumentParser, timeout: float | None, timeout_help: str) -> None:
    """--log-file and --timeout, which every live command takes (each says what its timeout means)."""
    p.add_argument(
        "--log-file",
        metavar="FILE",
        help="append the JSON log lines to FILE (default: no log lines; with LOG_LEVEL set, to stderr)",
    )
    p.add_argument("--timeout", type=seconds_arg, default=timeout, metavar="SECONDS", help=timeout_help)


# Plan and apply are one backup each: the whole command is bounded, as Fn-Deadline bounds the function.
ONE_BACKUP_TIMEOUT = "give up after this long; every OCI call is bounded by the time left"
POLICY_HELP = (
    "policy: a path, file:///abs, oci://bucket@namespace/object or s3://bucket/key "
    "(default: what the function would use: TAG_POLICY, else TAG_POLICY_URI, "
    "else the bundled tag_policy.yaml)"
)


def guarded(func: Callable[[argparse.Namespace, TextIO, TextIO], int]) -> Callable[..., int]:
    """CliError (and stray SDK setup errors) become `error: ...` and exit 2, never a traceback."""

    def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        try:
            return func(args, out, err)
        except CliError as exc:
            print(f"error: {exc}", file=err)
            return EXIT_USAGE

    return run
