"""The CLI's condition shorthand and the service accept the same comparators.

`ums_cli` is installed without the layer, so it keeps its own copy of the list; this test keeps
the two copies one list."""

from ums.conditions import COMPARATORS as SERVICE_COMPARATORS

from ums_cli.conditions import COMPARATORS as CLI_COMPARATORS


def test_the_cli_and_the_service_know_the_same_comparators() -> None:
    assert CLI_COMPARATORS == SERVICE_COMPARATORS
