"""The continuation's template: the lease table, and the only new permissions are on it and on the sweep
function itself."""

from __future__ import annotations

from tests.support.acceptor_template import RESOURCES, TEMPLATE
from tests.support.templates import as_list, statements


def test_only_the_sweep_may_invoke_and_only_itself() -> None:
    invoking = [
        (name, s)
        for name, r in RESOURCES.items()
        for s in statements(r.get("Properties", {}))
        if any(a.startswith("lambda:") for a in as_list(s["Action"]))
    ]
    assert [name for name, _ in invoking] == ["SweepSelfInvokePolicy"]
    statement = invoking[0][1]
    assert as_list(statement["Action"]) == ["lambda:InvokeFunction"]
    assert statement["Resource"] == {"Fn::GetAtt": ["SweepFunction", "Arn"]}
    assert RESOURCES["SweepSelfInvokePolicy"]["Properties"]["RoleName"] == {"Ref": "SweepRole"}


def test_the_lease_is_the_only_dynamodb_resource_and_only_the_sweep_writes_it() -> None:
    tables = [name for name, r in RESOURCES.items() if r["Type"] == "AWS::DynamoDB::Table"]
    assert tables == ["SweepLockTable"]
    props = RESOURCES["SweepLockTable"]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": "lock", "KeyType": "HASH"}]
    writers = [
        (name, s)
        for name, r in RESOURCES.items()
        for s in statements(r.get("Properties", {}))
        if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))
    ]
    assert [name for name, _ in writers] == ["SweepRole"]
    assert sorted(as_list(writers[0][1]["Action"])) == ["dynamodb:DeleteItem", "dynamodb:PutItem"]
    assert writers[0][1]["Resource"] == {"Fn::GetAtt": ["SweepLockTable", "Arn"]}


def test_the_sweep_is_told_its_lease_table_and_the_event_function_is_not() -> None:
    sweep = RESOURCES["SweepFunction"]["Properties"]["Environment"]["Variables"]
    assert sweep["SWEEP_LOCK_TABLE"] == {"Ref": "SweepLockTable"}
    assert "Environment" not in RESOURCES["ShareEventFunction"]["Properties"]


def test_the_concurrency_cap_defaults_match() -> None:
    from acceptor.settings import Settings

    assert TEMPLATE["Parameters"]["SweepConcurrency"]["Default"] == Settings._field_defaults["max_workers"]
