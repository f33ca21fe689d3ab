"""What every ISO 20022 wire format of the scheme shares: a parser that refuses DTDs, entities and
network access, the shipped schemas (`switch.scheme.xsd`), validation whose problems name the line
and the rule, element makers, and the text writers the wire formats write with.

lxml, not xmlschema: it validates a 100,000-item file in about a second (xmlschema, pure Python,
takes minutes); the tests use xmlschema as an independent second opinion.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from lxml import etree

from switch.scheme.codes import StatusReason
from switch.scheme.validation import FieldProblem, MessageInvalid

SCHEMA_ERRORS_LISTED_MAX = 20
_NAMESPACED = re.compile(r"\{(?:urn|https?):[^}]*\}")  # `{urn:...}Name`, not an enumeration's `{'A', 'B'}`
_WHOLE = re.compile(r"\+?[0-9]+(\.0*)?")
_FRACTION = re.compile(r"\+?[0-9]*\.[0-9]*[1-9][0-9]*")


def parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


_PER_THREAD = threading.local()


def _thread_parser() -> etree.XMLParser:
    """This thread's parser (`parser`), made once: a parser is not to be shared between threads,
    and making one costs about a sixth of parsing a one-transaction message."""
    made: etree.XMLParser | None = getattr(_PER_THREAD, "parser", None)
    if made is None:
        made = _PER_THREAD.parser = parser()
    return made


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


def parse_safely(data: bytes, name: str, whole: str) -> Any:
    """The root element of an XML message, once it is safe to look at, or MessageInvalid naming
    `whole` (the file or the message) and the rule.

    A DOCTYPE is refused before parsing, so an entity bomb is told as what it is rather than in
    libxml2's words; and after, for a document in an encoding the byte search does not see."""
    if b"<!DOCTYPE" in data:
        raise invalid(whole, f"a DOCTYPE is not allowed in a {name}: no DTDs, no entities")
    try:
        root = etree.fromstring(data, _thread_parser())
    except etree.XMLSyntaxError as error:
        raise invalid(whole, f"not well-formed XML: {error}") from None
    if root.getroottree().docinfo.doctype:
        raise invalid(whole, f"a DOCTYPE is not allowed in a {name}: no DTDs, no entities")
    return root


def read_root(data: bytes, namespace: str, name: str, whole: str) -> Any:
    """The root of an ISO 20022 document, once it is safe to look at (`parse_safely`), or
    MessageInvalid naming `whole` or `Document`, and the rule."""
    root = parse_safely(data, name, whole)
    if root.tag != f"{{{namespace}}}Document":
        raise invalid("Document", f"must be a {name} Document in namespace {namespace}")
    return root


def invalid(field: str, rule: str) -> MessageInvalid:
    """A message refused whole: the element it is about, and the rule (FF01)."""
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


def valid(document: Any, schema: etree.XMLSchema, name: str) -> Any:
    """The element, once it is valid: our own writer breaking the standard is a bug, never the
    caller's fault."""
    problems = schema_problems(schema, document)
    if problems:
        raise AssertionError(f"{name} written is not valid: {problems}")
    return document


def serialised(document: Any) -> bytes:
    return bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def checked(document: Any, schema: etree.XMLSchema, name: str) -> bytes:
    """The document as bytes, once it is valid (`valid`)."""
    return serialised(valid(document, schema, name))


# --- writing as text: the bytes lxml would write for the same tree, without building it -------------

# The wire formats write a document as text: fixed markup around the message's values, escaped,
# indented as lxml's pretty_print indents (the tests hold every writer to the bytes an element-by-
# element lxml tree of the same message serialises to). Building that tree cost more than all the
# rest of writing: an element object per element, a namespace lookup per element.
#
# Whether each document written is then parsed back and validated against ISO's schema: on in the
# tests (tests/conftest.py sets SWITCHYARD_VALIDATE_WRITTEN_XML=1, for `serve` in the end-to-end
# tests too), off in use. A written document is the fixed markup ISO's schema was checked against,
# with values the message models have already held to the schema's own limits (lengths, patterns,
# codes, whole amounts); the property tests check every example with two validators, lxml and
# xmlschema; and every reader, ours included, validates what it reads before trusting it. Checking
# again on every write would cost about as much CPU as the writing (`switchyard bench wire`).
VALIDATE_WRITTEN = os.environ.get("SWITCHYARD_VALIDATE_WRITTEN_XML") == "1"
XML_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
_TEXT_SPECIAL = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ATTRIBUTE_SPECIAL = re.compile(r"[&<>\"\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
NOT_XML_RULE = "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters"
ONE_MINUTE = timedelta(minutes=1)


def escaped(value: str) -> str:
    """A value as libxml2 writes it between tags (`&`, `<`, `>` escaped, a carriage return as
    `&#13;` so that it reads back as one); ValueError, as lxml raises, for a character XML 1.0
    cannot carry (control characters, U+FFFE, U+FFFF; a lone surrogate fails to encode)."""
    if _TEXT_SPECIAL.search(value) is None:
        return value
    if _NOT_XML.search(value):
        raise ValueError(NOT_XML_RULE)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def escaped_attribute(value: str) -> str:
    """A value as libxml2 writes it between an attribute's double quotes."""
    if _ATTRIBUTE_SPECIAL.search(value) is None:
        return value
    if _NOT_XML.search(value):
        raise ValueError(NOT_XML_RULE)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return value.replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;")


def iso_datetime(moment: datetime) -> str:
    """An ISODateTime to the millisecond, with the offset the moment has (none if it has none).
    ValueError for an offset of seconds, which Python writes and xs:dateTime cannot hold."""
    offset = moment.utcoffset()
    if offset is not None and offset % ONE_MINUTE:
        raise ValueError(f"{moment!r}: an ISO date and time takes an offset of whole minutes")
    return moment.isoformat(timespec="milliseconds")


def wrapped_xml(outer: str, tag: str, value: str, indent: str) -> str:
    """`<outer><tag>value</tag></outer>` at `indent`, the value escaped."""
    i = indent
    return f"{i}<{outer}>\n{i}  <{tag}>{escaped(value)}</{tag}>\n{i}</{outer}>\n"


def agent_xml(tag: str, member_id: str, indent: str) -> str:
    """`tag`/FinInstnId/ClrSysMmbId/MmbId: an agent named by its member id, at `indent`."""
    i = indent
    return f"""{i}<{tag}>
{i}  <FinInstnId>
{i}    <ClrSysMmbId>
{i}      <MmbId>{escaped(member_id)}</MmbId>
{i}    </ClrSysMmbId>
{i}  </FinInstnId>
{i}</{tag}>
"""


def written(text: str, schema_name: str, name: str) -> bytes:
    """A document's text (from its root, indented from nothing) as UTF-8 bytes with the XML
    declaration; checked against ISO's schema first when VALIDATE_WRITTEN (a fault is AssertionError:
    our writer's bug, never the caller's)."""
    data = (XML_DECLARATION + text).encode("utf-8")
    if VALIDATE_WRITTEN:
        valid(etree.fromstring(data, parser()), iso_schema(schema_name), name)
    return data


def written_envelope(data: bytes, schema_names: Sequence[str]) -> bytes:
    """An envelope's bytes; when VALIDATE_WRITTEN, each of its elements checked first against the
    schema named in its place (AssertionError for a fault, as `written`)."""
    if VALIDATE_WRITTEN:
        envelope = etree.fromstring(data, parser())
        for part, name in zip(envelope, schema_names, strict=True):
            valid(part, iso_schema(name), name)
    return data


def element_of(text: str, schema_name: str, name: str) -> Any:
    """A document's text as an lxml element, valid by ISO's schema (always checked: a tree is asked
    for by tests and tools, never on the hot path)."""
    return valid(etree.fromstring(text.encode("utf-8"), parser()), iso_schema(schema_name), name)


# --- reading: where a schema fault is, named as an integrator names it -------------------------------


def document_path(element: Any, document: Any, items: Mapping[Any, int]) -> str:
    """`CdtTrfTxInf[2]/PmtId/EndToEndId`: the element's path below the message element (the
    Document's one child), each item counted from 1 as an integrator counts it. The Document may
    be a tree's root or sit in an envelope."""
    steps = _steps(element, document, items)
    if not steps:
        return "Document"
    return "/".join(steps[1:]) if len(steps) > 1 else steps[0]


def header_path(element: Any, header: Any, items: Mapping[Any, int]) -> str:
    """`AppHdr/Fr/FIId/FinInstnId`: the element's path from the header itself."""
    return "/".join([etree.QName(header).localname, *_steps(element, header, items)])


def _steps(element: Any, top: Any, items: Mapping[Any, int]) -> list[str]:
    steps: list[str] = []
    node = element
    while node is not None and node is not top:
        name = etree.QName(node).localname
        steps.append(f"{name}[{items[node] + 1}]" if node in items else name)
        node = node.getparent()
    return list(reversed(steps)) if node is top else []


def schema_faults(
    top: Any,
    schema: etree.XMLSchema,
    items: Sequence[Any] = (),
    path: Callable[[Any, Any, Mapping[Any, int]], str] = document_path,
) -> dict[int, list[FieldProblem]]:
    """The items (0-based, as `items` lists them) that break the schema, with the rules, named by
    `path`. A fault outside every item refuses the whole message: MessageInvalid with each such
    fault (at most SCHEMA_ERRORS_LISTED_MAX)."""
    try:
        if schema.validate(top):
            return {}
    except etree.XMLSchemaValidateError as unchecked:  # an unresolved entity reference, say
        raise invalid(path(top, top, {}), f"cannot be checked against the schema: {unchecked}") from None
    index_of = {item: index for index, item in enumerate(items)}
    bad: dict[int, list[FieldProblem]] = {}
    whole: list[FieldProblem] = []
    for error in schema.error_log:
        element = _element_at(top, error.path)
        problem = FieldProblem(path(element, top, index_of), without_namespaces(error.message), StatusReason.FF01)
        index = next((index_of[e] for e in _ancestry(element) if e in index_of), None)
        if index is None:
            whole.append(problem)
        else:
            bad.setdefault(index, []).append(problem)
    if whole:
        raise MessageInvalid(whole[:SCHEMA_ERRORS_LISTED_MAX])
    return bad


def _element_at(top: Any, path: str | None) -> Any:
    """libxml2 names a schema fault's element by a positional XPath (`/*/*[3]/*[1]`) from the
    element validated, which lxml makes the root of a document of its own: the first step is
    `top` itself, whether it is the root of its tree or sits in an envelope."""
    steps = (path or "").split("/")[2:]
    if not steps:
        return top
    prefixes = {prefix: uri for prefix, uri in top.nsmap.items() if prefix}
    try:
        found = top.xpath("/".join(steps), namespaces=prefixes)
    except etree.XPathError:
        found = []
    return found[0] if found and isinstance(found[0], etree._Element) else top


def _ancestry(element: Any) -> list[Any]:
    return [] if element is None else [element, *element.iterancestors()]


def element_problems(
    prefix: str, problems: Sequence[FieldProblem], element_of_field: Mapping[str, str]
) -> list[FieldProblem]:
    """The model's fields (`debtor.citizen_id`) named as the elements written
    (`CdtTrfTxInf[2]/Dbtr/Id/PrvtId/Othr/Id`), below `prefix` (the item, or nothing)."""
    named = []
    for problem in problems:
        head, _, rest = problem.field.partition(".")
        if problem.field in element_of_field:
            element, rest = element_of_field[problem.field], ""
        else:
            element = element_of_field.get(head, head if head != "(message)" else "")
        field = "/".join(part for part in (prefix, element, rest.replace(".", "/")) if part)
        named.append(FieldProblem(field or "Document", problem.rule, problem.reason))
    return named


# --- reading fields: one walk over the elements a reader asks for ------------------------------------

# What `gather` walks by: an element's Clark tag (`{urn:...}PmtId`) to the field it is (its name),
# or to the walk of its children (a Fields), or to both: the element kept under a name, and walked.
Fields = dict[str, Any]


def fields_of(namespace: str, paths: Mapping[str, str]) -> Fields:
    """What `gather` walks by, from each field's element path (`PmtId/EndToEndId`) below the
    element walked. A path may end where another goes on (`StsRsnInf` and `StsRsnInf/Rsn/Cd`)."""
    spec: Fields = {}
    for field, path in sorted(paths.items(), key=lambda item: item[1].count("/")):  # shorter first
        node = spec
        *steps, last = [f"{{{namespace}}}{step}" for step in path.split("/")]
        for step in steps:
            below: Any = node.get(step)
            if below is None:
                below = node[step] = {}
            elif isinstance(below, str):  # a field's element, walked too
                below = node[step] = (below, {})
            node = below if isinstance(below, dict) else below[1]
        assert last not in node, f"two fields at {path}"
        node[last] = field
    return spec


def gather(element: Any, fields: Fields, found: dict[str, list[Any]] | None = None) -> dict[str, list[Any]]:
    """Each field's elements below `element`, in document order: one walk over the children the
    fields name and nothing else (an ElementPath `findtext` parses its path on every call, and
    these run for every transaction of every message)."""
    found = {} if found is None else found
    for child in element:
        entry = fields.get(child.tag)  # a comment's tag is a function: in no Fields
        if entry is None:
            continue
        if entry.__class__ is dict:
            gather(child, entry, found)
            continue
        name, below = (entry, None) if entry.__class__ is str else entry
        if name in found:
            found[name].append(child)
        else:
            found[name] = [child]
        if below is not None:
            gather(child, below, found)
    return found


def first_text(found: Mapping[str, list[Any]], field: str) -> str | None:
    """The text of the field's first element, as `findtext` gives it: None when there is no such
    element, "" when it is empty."""
    elements = found.get(field)
    return None if elements is None else (elements[0].text or "")


def children_named(element: Any, tag: str) -> list[Any]:
    """The element's children with this Clark tag, in order."""
    return [child for child in element if child.tag == tag]


def amount_value(text: str | None) -> Any:
    """A whole number of dong as an int; a fraction as a float, which the model refuses (CH20);
    anything else as text, which it refuses as a wrong type (FF01)."""
    value = (text or "").strip()
    if _WHOLE.fullmatch(value):
        return int(value.split(".")[0])
    return float(value) if _FRACTION.fullmatch(value) else value
