// The flows of examples/chat_client (chat_client.py), written with the real @langchain/langgraph-sdk,
// run against the fake server serving that example's cassettes. Prints what it saw as JSON, in the
// shape of the Python client's `Reply`, so tests/test_example_js.py can compare the two.
// Usage: node chat_example.mjs SCENARIO API_URL
import { Client } from "@langchain/langgraph-sdk";

const [scenario, apiUrl] = process.argv.slice(2);
const client = new Client({ apiUrl });
// As chat_client.STREAM: tokens, updates, custom events, subgraphs, resumable (event ids).
const STREAM = { streamMode: ["messages-tuple", "updates", "custom"], streamSubgraphs: true, streamResumable: true };
const message = (text) => ({ messages: [{ role: "human", content: text }] });

// What chat_client.ChatClient._read makes of a stream, event by event.
async function read(stream) {
  const reply = { text: "", progress: [], question: null, error: null, events: [] };
  try {
    for await (const { event, data } of stream) {
      reply.events.push([event, data]);
      const [kind, namespace] = event.split("|");
      const graph = namespace ? namespace.split(":")[0] : "main";
      if (kind === "messages" && !namespace) {
        const [chunk] = data;
        if (chunk.type === "AIMessageChunk" && typeof chunk.content === "string") reply.text += chunk.content;
      } else if (kind === "custom") {
        reply.progress.push(`${graph}: ${data.step} ${data.detail}`);
      } else if (kind === "updates" && "__interrupt__" in data) {
        reply.question = data.__interrupt__[0].value;
      } else if (kind === "error") {
        reply.error = `${data.error}: ${data.message}`;
      }
    }
  } catch (err) {
    // The connection dropped and the SDK could not pick the run up again.
    reply.error = `connection lost: ${err && err.message ? err.message : err}`;
  }
  return reply;
}

const send = (tid, assistant, text) => read(client.runs.stream(tid, assistant, { input: message(text), ...STREAM }));
const resume = (tid, assistant, answer) => read(client.runs.stream(tid, assistant, { command: { resume: answer }, ...STREAM }));
const newThread = async () => (await client.threads.create()).thread_id;

async function history(tid) {
  const state = await client.threads.getState(tid);
  const speakers = { human: "you", ai: "assistant" };
  return (state.values?.messages ?? []).filter((m) => m.type in speakers).map((m) => [speakers[m.type], m.content]);
}

async function pendingQuestion(tid) {
  const state = await client.threads.getState(tid);
  return (state.interrupts ?? []).map((i) => i.value)[0] ?? null;
}

const scenarios = {
  async conversation() {
    const tid = await newThread();
    const replies = [await send(tid, "chat", "my name is Ada"), await send(tid, "chat", "what is my name?")];
    return { replies, history: await history(tid) };
  },
  async research() {
    return { replies: [await send(await newThread(), "research", "is the sky blue")] };
  },
  async email() {
    const tid = await newThread();
    const first = await send(tid, "email", "lunch at noon?");
    const asked = await pendingQuestion(tid);
    const second = await resume(tid, "email", "yes");
    return { replies: [first, second], asked, after: await pendingQuestion(tid), history: await history(tid) };
  },
  async wait() {
    const tid = await newThread();
    const answers = [];
    for (const text of ["my name is Ada", "what is my name?"]) {
      const state = await client.runs.wait(tid, "chat", { input: message(text) });
      answers.push(state.messages.at(-1).content);
    }
    return { answers };
  },
  async follow() {
    const tid = await newThread();
    const run = await client.runs.create(tid, "research", { input: message("is the sky blue"), ...STREAM });
    return { run_id: run.run_id, replies: [await read(client.runs.joinStream(tid, run.run_id, { lastEventId: "-1" }))] };
  },
  async broken() {
    return { replies: [await send(await newThread(), "broken", "hello")] };
  },
};

process.stdout.write(JSON.stringify(await scenarios[scenario]()));
