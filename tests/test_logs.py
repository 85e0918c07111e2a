"""The JSON log formatter: one object per line, context fields, scrubbing, no forged lines."""

import io
import json
import logging

from sync import logs


def capture(level: str = "debug") -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    logs.setup(level, stream)
    return logging.getLogger("sync.test"), stream


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_fields_and_context_on_every_line() -> None:
    log, stream = capture()
    logs.set_context(fn_call_id="CALL1")
    log.info("hello", extra={"opc_request_id": "abc", "changes": {"k": {"old": None, "new": "v"}}})
    log.debug("second")
    out = lines(stream)
    assert [e["message"] for e in out] == ["hello", "second"]
    assert all(e["fn_call_id"] == "CALL1" for e in out)
    assert out[0]["opc_request_id"] == "abc" and out[0]["changes"]["k"]["new"] == "v"
    assert out[0]["level"] == "info" and out[1]["level"] == "debug"
    logs.set_context()


def test_level_filters() -> None:
    log, stream = capture("warning")
    log.info("quiet")
    log.warning("loud")
    assert [e["message"] for e in lines(stream)] == ["loud"]


def test_newlines_in_values_cannot_forge_lines() -> None:
    log, stream = capture()
    log.info("name", extra={"display_name": 'x\n{"level": "error", "message": "forged"}\r\n\x1b[31m'})
    raw = stream.getvalue().splitlines()
    assert len(raw) == 1
    assert json.loads(raw[0])["display_name"].startswith("x\n")


def test_credentials_are_scrubbed_wherever_they_appear() -> None:
    log, stream = capture()
    secret_header = 'Signature version="1",keyId="ocid1.tenancy.oc1..t/ocid1.user.oc1..u/aa:bb",algorithm="rsa-sha256",signature="c2VjcmV0"'
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretkeymaterial\n-----END RSA PRIVATE KEY-----"
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXNvdXJjZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
    log.info(f"request headers: Authorization: {secret_header}")
    log.info("key", extra={"detail": pem, "token": "anything", "note": f"keyId=ST${jwt}"})
    log.info("jwt in text", extra={"url": f"https://x/?t={jwt}"})
    text = stream.getvalue()
    for needle in ("c2VjcmV0", "MIIEsecretkeymaterial", "eyJzdWIiOiJyZXNvdXJjZSJ9", "anything", "aa:bb"):
        assert needle not in text, needle
    assert text.count("[redacted]") >= 4


def test_root_handlers_write_json_too() -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    try:
        capture()
        logging.getLogger("fdk.something").warning("plain from the fdk")
        entry = json.loads(stream.getvalue().splitlines()[-1])
        assert entry["message"] == "plain from the fdk" and entry["level"] == "warning"
    finally:
        root.removeHandler(handler)


def test_an_exception_logs_its_scrubbed_stack() -> None:
    log, stream = capture()
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXNvdXJjZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"

    def inner() -> None:
        raise KeyError(f"token {jwt}")

    try:
        inner()
    except KeyError:
        log.exception("unexpected error")
    (entry,) = lines(stream)
    assert entry["exception"].startswith("KeyError:")
    assert "Traceback (most recent call last)" in entry["traceback"]
    assert (
        "in inner" in entry["traceback"] and "test_an_exception_logs_its_scrubbed_stack" in entry["traceback"]
    )
    assert jwt not in stream.getvalue() and "[redacted]" in entry["traceback"]


def test_the_context_belongs_to_the_call_not_the_process() -> None:
    import contextvars
    import threading

    log, stream = capture()
    seen: dict[str, object] = {}

    def other_call() -> None:
        logs.set_context(fn_call_id="CALL2")
        log.info("from call 2")
        seen["done"] = True

    logs.set_context(fn_call_id="CALL1")
    thread = threading.Thread(target=contextvars.copy_context().run, args=(other_call,))
    thread.start()
    thread.join()
    log.info("from call 1")
    out = {e["message"]: e.get("fn_call_id") for e in lines(stream)}
    assert seen["done"] and out == {"from call 2": "CALL2", "from call 1": "CALL1"}
    logs.set_context()
