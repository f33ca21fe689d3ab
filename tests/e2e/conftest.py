"""The networked sandbox for e2e tests: `switchyard serve` started once per module, on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from serve_helpers import assert_books_agree, register_dev_payer, running_serve


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_serve(tmp_path_factory.mktemp("serve")) as document:
        document["dev_payer"] = register_dev_payer(document)
        yield document


@pytest.fixture(autouse=True)
def books_balance(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test on the sandbox: each simulated bank's books agree with the switch."""
    yield
    if "sandbox" in request.fixturenames:
        assert_books_agree(request.getfixturevalue("sandbox"))
