"""The harness's own promises: the teardown check that fails a test on a server
error or a sanitizer report would be worthless if it could not fire."""

import awtest


class FakeResponse:
    status = 503
    body = b'{"message":"store is closing"}'


def test_a_5xx_answer_is_a_problem(tmp_path):
    n = awtest.Node(str(tmp_path / "n"))
    assert n.problems() == []
    n._note_response("GET", "/api/0/info", FakeResponse())
    problems = n.problems()
    assert len(problems) == 1 and "503" in problems[0] and "/api/0/info" in problems[0]


def test_a_4xx_answer_is_not(tmp_path):
    n = awtest.Node(str(tmp_path / "n"))
    r = FakeResponse()
    r.status = 422
    n._note_response("POST", "/api/0/buckets/x", r)
    assert n.problems() == []


def test_sanitizer_reports_are_recognised():
    assert awtest.sanitizer_finding("==1==ERROR: AddressSanitizer: heap-use-after-free") == "AddressSanitizer"
    assert awtest.sanitizer_finding("x.c:3:5: runtime error: signed integer overflow") == "runtime error:"
    assert awtest.sanitizer_finding("awnode: listening on 127.0.0.1:5666") is None
