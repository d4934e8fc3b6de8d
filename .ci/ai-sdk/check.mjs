// Drives the portal's chat with the AI SDK's own client: the AbstractChat class
// that useChat wraps, with DefaultChatTransport and no request mapping. Every
// chunk the portal sends is validated with the SDK's own uiMessageChunkSchema.
//
//   node check.mjs <ai5|ai6|ai7> <base-url> <api-key>
//
// Prints one line per case and `N passed, M failed`; exits 1 on any failure.

const [mod, base, key] = process.argv.slice(2);
if (!mod || !base || !key) {
  console.error("usage: node check.mjs <ai5|ai6|ai7> <base-url> <api-key>");
  process.exit(2);
}
const ai = await import(mod);
// v5 predates the SDK's approval chunks; it asks the portal to leave them out.
const native = mod !== "ai5";
const api = `${base}/api/chat${native ? "" : "?approvalChunks=false"}`;
const auth = { authorization: `Bearer ${key}` };

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) {
    passed += 1;
    console.log(`ok   ${mod} ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${mod} ${name}: ${String(detail ?? "").slice(0, 600)}`);
  }
}

// ---- every chunk through the SDK's schema

const schema = ai.uiMessageChunkSchema;
async function invalid(chunk) {
  if (typeof schema === "function") {
    const r = await schema().validate(chunk);
    return r.success ? null : String(r.error);
  }
  const r = schema.safeParse(chunk);
  return r.success ? null : String(r.error);
}
const rejected = [];
const pending = [];
let chunks = 0;
async function readChunks(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let at;
    while ((at = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, at);
      buf = buf.slice(at + 2);
      const data = block
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trimStart())
        .join("");
      if (!data || data === "[DONE]" || data === "heartbeat") continue;
      chunks += 1;
      const chunk = JSON.parse(data);
      const why = await invalid(chunk);
      if (why) rejected.push(`${data} -> ${why.slice(0, 300)}`);
    }
  }
}
async function teeFetch(url, init) {
  const res = await fetch(url, init);
  const type = res.headers.get("content-type") ?? "";
  if (!res.body || !type.includes("text/event-stream")) return res;
  const [mine, theirs] = res.body.tee();
  pending.push(readChunks(theirs));
  return new Response(mine, { status: res.status, statusText: res.statusText, headers: res.headers });
}

// ---- a minimal ChatState (what @ai-sdk/react and friends provide)

class State {
  constructor() {
    this.messages = [];
    this.status = "ready";
    this.error = undefined;
  }
  pushMessage = (m) => {
    this.messages = this.messages.concat(m);
  };
  popMessage = () => {
    this.messages = this.messages.slice(0, -1);
  };
  replaceMessage = (i, m) => {
    this.messages = [...this.messages.slice(0, i), m, ...this.messages.slice(i + 1)];
  };
  snapshot = (v) => structuredClone(v);
}

let serial = 0;
function newChat(opts = {}) {
  serial += 1;
  const errors = [];
  const chat = new ai.AbstractChat({
    id: `sdk-${mod}-${process.pid}-${serial}`,
    state: new State(),
    transport: new ai.DefaultChatTransport({ api, headers: auth, fetch: teeFetch }),
    onError: (e) => errors.push(String(e?.message ?? e)),
    ...opts,
  });
  return { chat, errors };
}

const last = (chat) => chat.messages[chat.messages.length - 1];
const toolPart = (msg, tool) => msg?.parts?.find((p) => p.type === `tool-${tool}`);
const show = (v) => JSON.stringify(v)?.slice(0, 400);

async function settle(chat) {
  for (let i = 0; i < 200 && chat.status !== "ready" && chat.status !== "error"; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await Promise.all(pending.splice(0));
}

async function rest(method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...auth, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

// A compartment for buckets: creating one needs an approval, and names never run out.
const comps = await rest("POST", "/api/v1/tools/listCompartments/execute", { args: {} });
const compartment = comps.body?.result?.items?.[0]?.id;
if (!compartment) {
  console.error(`FATAL: no compartment to work in: ${show(comps)}`);
  process.exit(1);
}
const bucket = (n) => `/tool createBucket ${JSON.stringify({ compartmentId: compartment, name: `sdk-${mod}-${process.pid}-${n}` })}`;

// Asks for a bucket; returns the chat paused on its approval.
async function askForBucket(n, opts) {
  const c = newChat(opts);
  await c.chat.sendMessage({ text: bucket(n) });
  await settle(c.chat);
  const msg = last(c.chat);
  const part = toolPart(msg, "createBucket");
  const approvalId = native
    ? part?.approval?.id
    : msg?.parts?.find((p) => p.type === "data-approval-required")?.data?.approvalId;
  return { ...c, msg, part, approvalId };
}

// 1. A tool turn.
{
  const { chat, errors } = newChat();
  await chat.sendMessage({ text: "/tool listCompartments {}" });
  await settle(chat);
  const part = toolPart(last(chat), "listCompartments");
  check("tool turn ends ready", chat.status === "ready" && errors.length === 0, `${chat.status} ${errors}`);
  check("tool output available", part?.state === "output-available" && part.output?.result, show(part));
  // 5. Nothing active: resumeStream() gets 204 and changes nothing.
  const before = chat.messages.length;
  await chat.resumeStream();
  await settle(chat);
  check("resume with no active turn is a no-op", chat.status === "ready" && chat.messages.length === before, `${chat.status} ${chat.messages.length}`);
}

// 2. An approval turn ends ready, the tool part waiting for its approval.
{
  const { chat, errors, msg, part, approvalId } = await askForBucket(1);
  check("approval turn ends ready", chat.status === "ready" && errors.length === 0, `${chat.status} ${errors}`);
  check("awaiting approval in metadata", msg?.metadata?.awaitingApproval === true && msg.metadata.approvalIds?.includes(approvalId), show(msg?.metadata));
  if (native) {
    check("tool part approval-requested", part?.state === "approval-requested" && !!approvalId, show(part));
  } else {
    check("tool part input-available with data-approval-required", part?.state === "input-available" && !!approvalId, show(msg?.parts));
  }
}

// 3. An approval answered from the SDK (v6+: addToolApprovalResponse sends it back).
if (native) {
  const c = await askForBucket(2, { sendAutomaticallyWhen: ai.lastAssistantMessageIsCompleteWithApprovalResponses });
  await c.chat.addToolApprovalResponse({ id: c.approvalId, approved: true });
  await new Promise((r) => setTimeout(r, 100));
  await settle(c.chat);
  const part = toolPart(last(c.chat), "createBucket");
  check("approved from the SDK: the tool ran", c.chat.status === "ready" && part?.state === "output-available" && c.errors.length === 0, `${c.chat.status} ${c.errors} ${show(part)}`);
  check("approved from the SDK: one assistant message", c.chat.messages.filter((m) => m.role === "assistant").length === 1, show(c.chat.messages.map((m) => m.role)));

  const d = await askForBucket(3, { sendAutomaticallyWhen: ai.lastAssistantMessageIsCompleteWithApprovalResponses });
  await d.chat.addToolApprovalResponse({ id: d.approvalId, approved: false, reason: "not today" });
  await new Promise((r) => setTimeout(r, 100));
  await settle(d.chat);
  const denied = toolPart(last(d.chat), "createBucket");
  check("denied from the SDK: output-denied", d.chat.status === "ready" && denied?.state === "output-denied" && d.errors.length === 0, `${d.chat.status} ${d.errors} ${show(denied)}`);
}

// 4. Approved elsewhere (the REST API, an approver's browser), then resumeStream().
{
  const c = await askForBucket(4);
  const decided = await rest("POST", "/api/tools/approve", { approvalId: c.approvalId, approved: true });
  check("approved over REST", decided.status === 200, show(decided));
  await c.chat.resumeStream();
  await settle(c.chat);
  const part = toolPart(last(c.chat), "createBucket");
  check("resumed: the tool ran", c.chat.status === "ready" && part?.state === "output-available" && c.errors.length === 0, `${c.chat.status} ${c.errors} ${show(part)}`);
  check("resumed: one assistant message", c.chat.messages.filter((m) => m.role === "assistant").length === 1, show(c.chat.messages.map((m) => m.role)));
}

await Promise.all(pending.splice(0));
check(`every chunk validates (${chunks} chunks)`, rejected.length === 0 && chunks > 0, rejected.slice(0, 3).join("\n"));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
