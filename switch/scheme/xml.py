"""What every ISO 20022 wire format of the scheme shares: a parser that refuses DTDs, entities and
network access, the shipped schemas (`switch.scheme.xsd`), validation whose problems name the line
and the rule, and element makers.

lxml, not xmlschema: it validates a 100,000-item file in about a second (xmlschema, pure Python,
takes minutes); the tests use xmlschema as an independent second opinion.
"""

from __future__ import annotations

import re
import threading
from importlib import resources
from typing import Any

from lxml import etree

from switch.scheme.codes import StatusReason
from switch.scheme.validation import FieldProblem, MessageInvalid

SCHEMA_ERRORS_LISTED_MAX = 20
_NAMESPACED = re.compile(r"\{[^}]*\}")


def parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


_PER_THREAD = threading.local()


def iso_schema(name: str) -> etree.XMLSchema:
    """An ISO 20022 schema shipped in `switch.scheme.xsd`, by its message name (`pacs.008.001.12`).

    One object per thread: a schema keeps the errors of its last validation in its own log, and
    lxml lets go of the GIL while it validates, so threads sharing one would read each other's
    errors (and take a bad message for a good one)."""
    schemas: dict[str, etree.XMLSchema] = _PER_THREAD.__dict__.setdefault("schemas", {})
    if name not in schemas:
        source = resources.files("switch.scheme.xsd").joinpath(f"{name}.xsd").read_bytes()
        schemas[name] = etree.XMLSchema(etree.fromstring(source, parser()))
    return schemas[name]


def without_namespaces(message: str) -> str:
    """libxml2's message with `{urn:...}Element` written as `Element`."""
    return _NAMESPACED.sub("", message)


def schema_problems(schema: etree.XMLSchema, document: Any) -> list[str]:
    """What makes the document invalid, at most SCHEMA_ERRORS_LISTED_MAX, each with its line."""
    try:
        if schema.validate(document):
            return []
    except etree.XMLSchemaValidateError as error:  # an unresolved entity reference, say
        return [f"cannot be checked against the schema: {error}"]
    return [f"line {e.line}: {e.message}" for e in list(schema.error_log)[:SCHEMA_ERRORS_LISTED_MAX]]


def read_root(data: bytes, namespace: str, name: str, whole: str) -> Any:
    """The root of an ISO 20022 document, once it is safe to look at, or MessageInvalid naming
    `whole` (the file or the message) or `Document`, and the rule.

    A DOCTYPE is refused before parsing, so an entity bomb is told as what it is rather than in
    libxml2's words; and after, for a document in an encoding the byte search does not see."""
    if b"<!DOCTYPE" in data:
        raise _problem(whole, f"a DOCTYPE is not allowed in a {name}: no DTDs, no entities")
    try:
        root = etree.fromstring(data, parser())
    except etree.XMLSyntaxError as error:
        raise _problem(whole, f"not well-formed XML: {error}") from None
    if root.getroottree().docinfo.doctype:
        raise _problem(whole, f"a DOCTYPE is not allowed in a {name}: no DTDs, no entities")
    if root.tag != f"{{{namespace}}}Document":
        raise _problem("Document", f"must be a {name} Document in namespace {namespace}")
    return root


def _problem(field: str, rule: str) -> MessageInvalid:
    return MessageInvalid([FieldProblem(field, rule, StatusReason.FF01)])


def sub_maker(namespace: str) -> Any:
    """`sub(parent, tag, text)`: a child in the parent's namespace. Children share their parent's
    namespace map, which is what makes a 100,000-element document take seconds rather than minutes."""

    def sub(parent: Any, tag: str, text: str | None = None) -> Any:
        element = etree.SubElement(parent, f"{{{namespace}}}{tag}")
        if text is not None:
            element.text = text
        return element

    return sub


def maker(namespace: str) -> Any:
    """`make(tag, *children)`: an element with text or children, the namespace its default."""

    def make(tag: str, *children: Any) -> Any:
        element = etree.Element(f"{{{namespace}}}{tag}", nsmap={None: namespace})
        for child in children:
            if isinstance(child, str):
                element.text = child
            else:
                element.append(child)
        return element

    return make


def checked(document: Any, schema: etree.XMLSchema, name: str) -> bytes:
    """The document as bytes, once it is valid: our own writer breaking the standard is a bug,
    never the caller's fault."""
    problems = schema_problems(schema, document)
    if problems:
        raise AssertionError(f"{name} written is not valid: {problems}")
    return bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True))
