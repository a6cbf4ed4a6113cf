// The JS SDK's thread-centric protocol (`client.threads.stream(...)`, a ThreadStream) on one
// scenario, printing what its caller saw as JSON, with the client-minted thread id blanked.
// Usage: node thread_stream.mjs SCENARIO API_URL [sse|websocket]
// tests/test_threads_js.py runs it against the live `langgraph dev`, then against the fake
// server serving a cassette recorded with the Python SDK.
import { Client } from "@langchain/langgraph-sdk";

const [scenario, apiUrl, transport = "sse"] = process.argv.slice(2);
const client = new Client({ apiUrl });
const QUESTION = { messages: [{ role: "human", content: "whats the weather in la" }] };
const LIMIT_MS = 60_000;

function within(promise, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${LIMIT_MS} ms`)), LIMIT_MS);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

const scenarios = {
  // Token text of every message, every tool call with its output, the final state.
  async agent() {
    const thread = client.threads.stream({ assistantId: "threads_agent", transport });
    try {
      const run = await thread.run.start({ input: QUESTION });
      const messages = (async () => {
        const found = [];
        for await (const message of thread.messages) found.push([message.id, await message.text]);
        return found;
      })();
      const toolCalls = (async () => {
        const found = [];
        for await (const call of thread.toolCalls) {
          found.push([call.callId, call.name, call.input, await call.output]);
        }
        return found;
      })();
      const output = await within(thread.output, "thread.output");
      return {
        threadId: thread.threadId,
        run,
        messages: await within(messages, "thread.messages"),
        toolCalls: await within(toolCalls, "thread.toolCalls"),
        output,
      };
    } finally {
      await thread.close();
    }
  },
};

const seen = await scenarios[scenario]();
const text = JSON.stringify(seen).replaceAll(seen.threadId, "<thread>");
process.stdout.write(text + "\n");
process.exit(0);
