"""The reliability suite (issue: load, faults, hostile input, access, tampering).

Modules here that take more than a few minutes carry ``pytestmark = pytest.mark.reliability``:
``make test`` leaves them out (pyproject's ``-m "not reliability"``) and ``make test-reliability``
runs exactly them. The rest (the hostile-input corpus, access, tampering) runs with every ``make test``.
"""
