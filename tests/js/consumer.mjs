// Runs one consumer flow with the real @langchain/langgraph-sdk and prints what it saw as JSON.
// Usage: node consumer.mjs SCENARIO API_URL   (the flows mirror tests/fakeserver_scenarios.py)
import { Client } from "@langchain/langgraph-sdk";

const [scenario, apiUrl] = process.argv.slice(2);
const client = new Client({ apiUrl });
const AGENT_INPUT = { messages: [{ role: "human", content: "whats the weather in la" }] };
const ALL_MODES = [
  "values", "updates", "messages", "messages-tuple", "custom", "tasks", "checkpoints", "debug", "events",
];

async function eventsOf(stream) {
  const events = [];
  for await (const part of stream) events.push([part.event, part.data]);
  return events;
}

const scenarios = {
  async modes() {
    const thread = await client.threads.create();
    const tid = thread.thread_id;
    const events = await eventsOf(client.runs.stream(tid, "agent", {
      input: AGENT_INPUT, streamMode: ALL_MODES, streamResumable: true,
    }));
    const state = await client.threads.getState(tid);
    const history = await client.threads.getHistory(tid, { limit: 5 });
    return { thread, events, state, history };
  },
  async subgraphs() {
    const thread = await client.threads.create();
    const events = await eventsOf(client.runs.stream(thread.thread_id, "subgraph", {
      input: { steps: [] }, streamMode: ["values", "updates", "debug"], streamSubgraphs: true,
    }));
    return { thread, events };
  },
  async interrupt() {
    const thread = await client.threads.create();
    const tid = thread.thread_id;
    const first = await eventsOf(client.runs.stream(tid, "interrupt", { input: {}, streamMode: "updates" }));
    const paused = await client.threads.getState(tid);
    const second = await eventsOf(client.runs.stream(tid, "interrupt", {
      command: { resume: "yes" }, streamMode: "updates",
    }));
    const final = await client.threads.getState(tid);
    return { thread, first, paused, second, final };
  },
  async error() {
    const thread = await client.threads.create();
    const events = await eventsOf(client.runs.stream(thread.thread_id, "failing", { input: { value: "x" } }));
    return { thread, events };
  },
  async unmatched() {
    const thread = await client.threads.create();
    try {
      await eventsOf(client.runs.stream(thread.thread_id, "failing", { input: { value: "not recorded" } }));
      return { error: null };
    } catch (err) {
      return { error: String(err && err.message ? err.message : err) };
    }
  },
};

const observed = await scenarios[scenario]();
process.stdout.write(JSON.stringify(observed));
