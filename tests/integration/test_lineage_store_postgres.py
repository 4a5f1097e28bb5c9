"""Models' versions and lineage in a PostgreSQL metadata store: the SQLite suite, on a server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sluiceway.meta import MetaStore
from tests.unit.test_lineage_store import LineageStoreContract

pytestmark = pytest.mark.integration


class TestLineageStorePostgres(LineageStoreContract):
    @pytest.fixture
    def store(self, pg_url: str) -> Iterator[MetaStore]:
        with MetaStore.open(pg_url) as opened:
            yield opened
