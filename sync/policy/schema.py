"""The policy file's structure (pydantic models): checked first, before what the rules mean."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sync.policy.limits import OCI_LIMITS

MAX_RULES = 500


TemplateText = str | int | float


class CopyTags(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    freeform: bool = True
    defined: bool | list[str] = True


class RuleSpec(BaseModel):
    """A rule as written; its templates and conditions are compiled by `load_policy`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    match: dict[str, Any] | None = None
    display_name: TemplateText | None = None
    freeform_tags: dict[str, TemplateText] = Field(default_factory=dict)
    defined_tags: dict[str, dict[str, TemplateText]] = Field(default_factory=dict)
    copy_tags_from_volume_group: bool | CopyTags = False
    overwrite: bool = True
    members: Literal["tags"] | None = None  # a group backup's member backups get the rule's tags too

    @field_validator("display_name", mode="before")
    @classmethod
    def _no_bool_name(cls, value: Any) -> Any:
        return _reject_bool(value)

    @field_validator("freeform_tags", "defined_tags", mode="before")
    @classmethod
    def _no_bool_tags(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for v in value.values():
                if isinstance(v, dict):
                    for inner in v.values():
                        _reject_bool(inner)
                else:
                    _reject_bool(v)
        return value


def _reject_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("write true/false in quotes if you mean the text")
    return value


class LimitsSpec(BaseModel):
    """A policy may lower OCI's limits (limits.py), never raise them: OCI would refuse the PUT."""

    model_config = ConfigDict(extra="forbid", strict=True)

    display_name_max: int = Field(OCI_LIMITS.display_name_max, ge=1, le=OCI_LIMITS.display_name_max)
    freeform_key_max: int = Field(OCI_LIMITS.freeform_key_max, ge=1, le=OCI_LIMITS.freeform_key_max)
    tag_value_max: int = Field(OCI_LIMITS.tag_value_max, ge=1, le=OCI_LIMITS.tag_value_max)
    defined_tags_max: int = Field(OCI_LIMITS.defined_tags_max, ge=0, le=OCI_LIMITS.defined_tags_max)
    freeform_tags_max: int = Field(OCI_LIMITS.freeform_tags_max, ge=0, le=OCI_LIMITS.freeform_tags_max)
    total_tags_bytes_max: int = Field(
        OCI_LIMITS.total_tags_bytes_max, ge=0, le=OCI_LIMITS.total_tags_bytes_max
    )


class PolicySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    mode: Literal["all", "first"] = "all"
    # Each rule is validated on its own (RuleSpec), so that one bad rule hides nothing of the others.
    rules: list[Any] = Field(min_length=1, max_length=MAX_RULES)
    limits: LimitsSpec = Field(default_factory=LimitsSpec)

    @field_validator("version", mode="before")
    @classmethod
    def _whole_version(cls, value: Any) -> Any:
        # 1 == 1.0 == True in Python: only the integer 1 is version 1.
        if value.__class__ is not int:
            raise ValueError(
                "Input should be 1" + (f" (the whole number, not {value!r})" if value == 1 else "")
            )
        return value
