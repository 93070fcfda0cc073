"""The fakes keep step with the ports: same methods, same parameters, so the unit tier tests what infra/ must do."""
from __future__ import annotations

import inspect

import pytest

from core.ports import BlobStore, LoadStore
from core.reports import HireSummary, ReportQueries
from core.tasks import TaskDispatcher, TaskRegistry
from tests.unit.fakes import (
    FakeBlobStore,
    FakeDispatcher,
    FakeHireSummary,
    FakeLoadStore,
    FakeReportQueries,
    FakeTaskRegistry,
)


def port_methods(port: type) -> dict[str, list[str]]:
    return {name: list(inspect.signature(member).parameters)
            for name, member in vars(port).items() if inspect.isfunction(member) and not name.startswith("_")}


@pytest.mark.parametrize("port, fake", [(LoadStore, FakeLoadStore), (BlobStore, FakeBlobStore),
                                        (ReportQueries, FakeReportQueries), (HireSummary, FakeHireSummary),
                                        (TaskRegistry, FakeTaskRegistry),
                                        (TaskDispatcher, FakeDispatcher)])
def test_fake_has_every_method_of_its_port_with_the_same_parameters(port, fake):
    methods = port_methods(port)
    assert methods
    for name, parameters in methods.items():
        assert list(inspect.signature(getattr(fake, name)).parameters) == parameters, name
