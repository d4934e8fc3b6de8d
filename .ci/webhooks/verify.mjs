// Verifies the portal's captured webhook deliveries with the official
// Standard Webhooks library for JavaScript (npm `standardwebhooks`): every
// secret listed must accept a delivery, every rejected one must refuse it.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";

const dir = process.argv[2];
const files = readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort();
if (files.length === 0) {
  console.error("FATAL: no captured deliveries");
  process.exit(1);
}
let passed = 0;
let failed = 0;
const verifies = (secret, c) => {
  try {
    new Webhook(secret).verify(c.body, c.headers);
    return true;
  } catch {
    return false;
  }
};
for (const f of files) {
  for (const line of readFileSync(join(dir, f), "utf8").split("\n")) {
    if (!line.trim()) continue;
    const c = JSON.parse(line);
    for (const s of c.secrets) {
      if (verifies(s, c)) passed++;
      else { failed++; console.log(`FAIL ${c.case}: a listed secret did not verify`); }
    }
    for (const s of c.rejected) {
      if (!verifies(s, c)) passed++;
      else { failed++; console.log(`FAIL ${c.case}: an expired secret still verified`); }
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
