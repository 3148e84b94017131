"""The local harness the tests, `make demo` and `make invoke` share: one Lambda context, one capture."""

from __future__ import annotations

import json
import time

import pytest

from acceptor import runtime
from acceptor.observability import logger
from simulator.harness import Capture, LambdaContext, json_lines


def test_the_context_counts_down_from_its_budget_and_names_its_function(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_SAM_LOCAL", raising=False)  # `make invoke` sets it: the account is then unknown
    # Given a context with two seconds left
    context = LambdaContext("SweepFunction", 2_000, memory_mb=512, region="eu-west-1", account="123456789012")
    first = context.get_remaining_time_in_millis()
    time.sleep(0.05)
    # Then its time runs down, like a function's
    assert 1_900 < first <= 2_000
    assert context.get_remaining_time_in_millis() <= first - 40
    assert context.invoked_function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:SweepFunction"
    assert (context.function_name, context.memory_limit_in_mb) == ("SweepFunction", 512)
    assert runtime.own_account(context) == "123456789012"
    # And an exhausted budget reads 0, never a negative time
    assert LambdaContext(remaining_ms=-5).get_remaining_time_in_millis() == 0


def test_each_context_has_its_own_request_id_unless_given_one() -> None:
    assert LambdaContext().aws_request_id != LambdaContext().aws_request_id
    assert LambdaContext(request_id="demo").aws_request_id == "demo"


def test_a_capture_reads_logs_metrics_and_dimensions() -> None:
    emf = {
        "_aws": {"CloudWatchMetrics": [{"Dimensions": [["service"]], "Metrics": [{"Name": "A"}, {"Name": "B"}]}]},
        "A": [1, 2],
        "B": 3,
    }
    capture = Capture()
    with capture.running():
        logger.info("wanted", extra={"n": 1})
        logger.info("other")
        print(json.dumps(emf))
        print(json.dumps(emf | {"A": 4}))
        print("not json")
    assert [r["n"] for r in capture.records("wanted")] == [1]
    assert capture.metrics() == {"A": 7, "B": 6}
    assert capture.metric_dimensions() == [["service"], ["service"]]


def test_only_one_capture_runs_at_a_time() -> None:
    outer, inner = Capture(), Capture()
    with outer.running():
        with pytest.raises(RuntimeError, match="another Capture is running"), inner.running():
            pass
        logger.info("still the outer one's")
    assert outer.records("still the outer one's") and not inner.logs.getvalue()
    with inner.running():  # the first one has ended: a new one may start
        logger.info("now the inner one's")
    assert inner.records("now the inner one's")


def test_json_lines_skips_what_is_not_a_json_object() -> None:
    assert json_lines('{"a": 1}\n  {"b": 2}  \nplain\n{broken\n[1, 2]\n') == [{"a": 1}, {"b": 2}]
