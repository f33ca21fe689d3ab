"""The digest of a payment list: sha-256 over its lines in canonical order (citizen id, program),
so it does not depend on the order the lines come in and changes with any line."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st
from payment_request_data import citizen, line, lines

from payer.requests import core
from payer.requests.schemas import PaymentListLine
from switch.scheme.codes import Program


def test_the_digest_of_a_list_is_sha256_over_a_header_and_one_text_line_per_line_in_canonical_order() -> None:
    merit = PaymentListLine("079145012347", "Lê Thị Hoa", "079", Program.MERIT_PERSON, 2_789_000)
    elderly = PaymentListLine("001090012345", "Nguyễn Văn An", "001", Program.ELDERLY, 500_000)
    written = (
        "switchyard payment list v1\n"
        '001090012345\telderly\t500000\t001\t"Nguyễn Văn An"\n'
        '079145012347\tmerit_person\t2789000\t079\t"Lê Thị Hoa"\n'
    )
    assert core.digest([merit, elderly]) == hashlib.sha256(written.encode()).hexdigest()


def test_a_name_written_with_combining_marks_is_the_same_name() -> None:
    composed = line(3)
    decomposed = replace(composed, name=unicodedata.normalize("NFD", composed.name))
    assert decomposed.name != composed.name
    assert core.digest([decomposed]) == core.digest([composed])


def test_a_line_break_in_a_name_cannot_forge_a_second_line() -> None:
    first, second = line(1), line(2)
    forged_name = f'{first.name}"\n{second.citizen_id}\t{second.program.value}\t{second.amount_vnd}\t'
    assert core.digest([replace(first, name=forged_name)]) != core.digest([first, second])


def test_the_empty_list_has_a_digest_of_its_own() -> None:
    assert core.digest([]) == hashlib.sha256(b"switchyard payment list v1\n").hexdigest()
    assert core.digest([]) != core.digest([line(0)])


@given(made=lines(), order=st.randoms(use_true_random=False))
def test_the_digest_does_not_depend_on_the_order_of_the_lines(made: list[PaymentListLine], order) -> None:
    shuffled = list(made)
    order.shuffle(shuffled)
    assert core.digest(shuffled) == core.digest(made)


@given(made=lines(), data=st.data())
def test_the_digest_changes_when_any_line_changes_its_amount_id_program_or_name(
    made: list[PaymentListLine], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(made) - 1))
    old = made[index]
    taken = {x.key for x in made}
    change = data.draw(st.sampled_from(["amount", "citizen", "program", "name", "dropped", "added"]))
    if change == "amount":
        new = [replace(old, amount_vnd=old.amount_vnd + data.draw(st.integers(1, 1_000_000)))]
    elif change == "citizen":
        number = data.draw(st.integers(401, 800))
        citizen_id, _name = citizen(number)
        new = [replace(old, citizen_id=citizen_id, province_code=citizen_id[:3])]
    elif change == "program":
        others = [p for p in Program if (old.citizen_id, p.value) not in taken]
        new = [replace(old, program=data.draw(st.sampled_from(others)))] if others else []
    elif change == "name":
        new = [replace(old, name=old.name + " Minh")]
    elif change == "dropped":
        new = []
    else:
        new = [old, line(data.draw(st.integers(401, 800)))]
    changed = [*made[:index], *new, *made[index + 1 :]]
    assert core.digest(changed) != core.digest(made)
