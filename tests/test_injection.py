"""Template injection corpus: every entry is rejected when the policy loads, in every place a
template can sit (display_name, a freeform tag value, a defined tag value), and the error names
the rule and the field. tests/test_templates.py covers parse_template's own messages; this adds
format-string, attribute, dunder, nested `${}`, YAML-tag and encoding tricks through load_policy.
"""

from __future__ import annotations

import json

import pytest

from sync.policy.loader import PolicyError, load_policy
from sync.policy.planner import plan

CORPUS = [
    # Python format strings and printf
    "{backup.__class__.__init__.__globals__}",
    "{0.__class__.__bases__[0].__subclasses__()}",
    "{backup[display_name]}",
    "{{backup.type}}",
    "${backup.type!r}",
    "${backup.type:>10}",
    "${backup.type.__format__}",
    # attribute, item and dunder walks
    "${backup.__init__.__globals__}",
    "${backup.type.__class__.__base__.__subclasses__}",
    "${__builtins__.open}",
    "${backup.__getattribute__}",
    "${backup.freeform_tags.__dict__}",
    "${backup.defined_tags.__class__.__mro__}",
    "${volume_group.__dict__.secrets}",
    "${event.__class__}",
    "${backup[type]}",
    "${backup['type']}",
    "${backup.type()}",
    "${getattr(backup, 'type')}",
    "${backup.type if True else 1}",
    "${backup.type + backup.type}",
    "${lambda: 1}",
    "${self}",
    "${config.OCI_RESOURCE_PRINCIPAL_RPST}",
    "${env.HOME}",
    "${os.environ.HOME}",
    "${sys.modules}",
    # nested and split placeholders
    "${${backup.type}}",
    "${backup.${backup.type}}",
    "${backup.type|default:${backup.id}}",
    "${backup.type|date:${backup.type}}",
    "$${backup.type}}",
    "${{backup.type}}",
    "${backup.type}${",
    "}${backup.type}",
    "${backup.type}}",
    "${backup.type${x}}",
    # filters as code
    "${backup.type|__class__}",
    "${backup.type|eval}",
    "${backup.type|exec:print(1)}",
    "${backup.type|system:id}",
    "${backup.type|lower()}",
    "${backup.type|truncate:1e9}",
    "${backup.type|truncate:-1}",
    "${backup.type|truncate:99999}",
    "${backup.type|lower|}",
    "${backup.type||lower}",
    # Jinja, shell and other template syntaxes
    "{{ backup.type }}",
    "{% for x in backup %}{% endfor %}",
    "#{backup.type}",
    "@{backup.type}",
    # encoding tricks
    "${backup\u200b.type}",
    "${backup.type\u0000}",
    "${backup.ty\npe}",
    "${\uff42ackup.type}",
    "${backup.typ\u0435}",
]


# Not template syntax here: accepted as literal text and rendered verbatim, never evaluated.
LITERAL = [
    "%(backup)s",
    "%s%s%s%n",
    "$(id)",
    "`id`",
    "\uff04\uff5bbackup.type\uff5d",
    "$backup.type",
    "\\${backup.type",
]


def policies_for(template: str) -> dict[str, str]:
    """The same template in each place a policy can hold one (JSON, so any text survives)."""
    rule = {"name": "inj", "match": {"source_type": "SCHEDULED"}}
    return {
        "display_name": json.dumps({"version": 1, "rules": [{**rule, "display_name": template}]}),
        "freeform_tags": json.dumps({"version": 1, "rules": [{**rule, "freeform_tags": {"k": template}}]}),
        "defined_tags": json.dumps(
            {"version": 1, "rules": [{**rule, "defined_tags": {"Operations": {"Owner": template}}}]}
        ),
    }


@pytest.mark.parametrize("template", CORPUS)
def test_every_injection_is_rejected_at_load_naming_rule_and_field(template: str) -> None:
    for where, text in policies_for(template).items():
        with pytest.raises(PolicyError) as exc:
            load_policy(text, "corpus")
        message = "; ".join(exc.value.errors)
        assert "'inj'" in message and where in message, (where, message)


def test_corpus_has_no_duplicates() -> None:
    assert len(set(CORPUS)) == len(CORPUS) >= 55


@pytest.mark.parametrize("text", LITERAL[:-1])
def test_non_template_syntax_is_literal_text(text: str) -> None:
    policy = load_policy(policies_for(text)["freeform_tags"], "corpus")
    backup = {"source_type": "SCHEDULED", "type": "FULL", "freeform_tags": {}, "defined_tags": {}}
    planned = plan(policy, backup, None)
    assert planned.update_body()["freeformTags"]["k"] == text


def test_unclosed_placeholder_after_backslash_is_rejected() -> None:
    with pytest.raises(PolicyError):
        load_policy(policies_for(LITERAL[-1])["display_name"], "corpus")


@pytest.mark.parametrize(
    "text",
    [
        # YAML that would build Python objects with an unsafe loader
        "version: 1\nrules:\n  - name: y\n    display_name: !!python/object/apply:os.system ['id']\n",
        "version: 1\nrules:\n  - name: y\n    display_name: !!python/name:os.system\n",
        "!!python/object/new:type\nargs: [x, !!python/tuple [], {}]\n",
        # a template smuggled into a tag key, a namespace or a rule name
        'version: 1\nrules:\n  - name: y\n    freeform_tags: {"${backup.type}": x}\n',
        'version: 1\nrules:\n  - name: y\n    defined_tags: {"${backup.type}": {k: x}}\n',
        'version: 1\nrules:\n  - name: y\n    freeform_tags: {"__class__": "${backup.__class__}"}\n',
        # anchors/aliases expanding to a huge document (billion laughs, small)
        "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nversion: 1\nrules: *d\n",
    ],
    ids=["yaml-apply", "yaml-name", "yaml-new", "tag-key", "namespace", "dunder-value", "laughs"],
)
def test_yaml_and_key_tricks_are_rejected(text: str) -> None:
    with pytest.raises(PolicyError) as exc:
        load_policy(text, "corpus")
    assert exc.value.errors and all(len(e) > 10 for e in exc.value.errors)
