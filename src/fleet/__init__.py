"""The fleet hub's logic: read the decision and run events every member forwards, and answer what a
platform team asks of them (the organization-wide report, the daily expiry digest, members failing).

Pure apart from ``hub_log``, the only module that calls AWS (CloudWatch Logs, with an injected client).
"""
