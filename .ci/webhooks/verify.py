"""Verifies the portal's captured webhook deliveries with the official
Standard Webhooks library for Python (PyPI `standardwebhooks`): every secret
listed must accept a delivery, every rejected one must refuse it."""

import json
import pathlib
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

passed = failed = 0
files = sorted(pathlib.Path(sys.argv[1]).glob("*.jsonl"))
if not files:
    print("FATAL: no captured deliveries", file=sys.stderr)
    sys.exit(1)
for path in files:
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        c = json.loads(line)
        for secret in c["secrets"]:
            try:
                Webhook(secret).verify(c["body"], c["headers"])
                passed += 1
            except WebhookVerificationError as e:
                failed += 1
                print(f"FAIL {c['case']}: a listed secret did not verify: {e}")
        for secret in c["rejected"]:
            try:
                Webhook(secret).verify(c["body"], c["headers"])
                failed += 1
                print(f"FAIL {c['case']}: an expired secret still verified")
            except WebhookVerificationError:
                passed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
